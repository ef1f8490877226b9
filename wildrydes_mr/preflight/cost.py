"""The deployment's standing monthly cost — what it costs with no traffic at all — as an ESTIMATE from AWS's
published list prices (USD, no free tier deducted, no taxes). Everything else the app uses is billed per use:
Lambda, API Gateway requests, DynamoDB on-demand reads and writes and replicated writes, Route 53 queries,
CloudFront requests and data transfer, CloudWatch Logs ingestion, FIS action-minutes during a game day; ACM public
certificates, API Gateway custom domains and Cognito identity pools have no charge of their own.

The prices are constants, each with the page it was read from and when (PRICES_AS_OF). Where a price differs by
region, the constant is the US East (N. Virginia) list price and is applied to every region, said so in the
line: the regions' own rates are on the same pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wildrydes_mr.engine import Context
from wildrydes_mr.preflight.checklist import READ_ERRORS, Item, passed
from wildrydes_mr.workflows.build_ui import WEB_DIR

GROUP = "cost"
NAME = "standing monthly cost (estimate)"
PRICES_AS_OF = "2026-12"
GB = 1024 ** 3


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    us_east_1_rate: bool = False  # the US East (N. Virginia) rate, applied to every region


ROUTE53 = "https://aws.amazon.com/route53/pricing/"
PRICES = {
    "route53_hosted_zone": Price(0.50, "per hosted zone per month (first 25 zones)", ROUTE53),
    # A health check of an endpoint on AWS in the same account ("AWS endpoint"); each optional feature is extra.
    "route53_health_check": Price(0.50, "per health check of an AWS endpoint per month", ROUTE53),
    "route53_health_check_feature": Price(1.00, "per optional feature (HTTPS, string matching, fast interval, "
                                                "latency measurement) per health check per month", ROUTE53),
    "cloudfront_distribution": Price(0.00, "per distribution per month: pay-as-you-go, billed per request and "
                                           "per GB out only", "https://aws.amazon.com/cloudfront/pricing/"),
    "dynamodb_storage": Price(0.25, "per GB-month of table storage (Standard table class)",
                              "https://aws.amazon.com/dynamodb/pricing/on-demand/", True),
    "dynamodb_pitr": Price(0.20, "per GB-month of continuous backups (point-in-time recovery)",
                           "https://aws.amazon.com/dynamodb/pricing/on-demand/", True),
    "s3_storage": Price(0.023, "per GB-month, S3 Standard, first 50 TB", "https://aws.amazon.com/s3/pricing/", True),
}


def _line(what: str, region: str, quantity: float, key: str) -> dict[str, Any]:
    price = PRICES[key]
    usd = f"{price.usd:.2f}" if round(price.usd, 2) == price.usd else f"{price.usd:g}"
    rate = f"${usd} {price.unit}" + (" (us-east-1 rate)" if price.us_east_1_rate else "")
    return {"what": what, "region": region, "quantity": round(quantity, 6), "rate": rate,
            "usd": round(quantity * price.usd, 4), "source": price.source}


def _table_gb(ctx: Context, region: str) -> float:
    """The tickets table's size in `region` if it exists (DescribeTable's TableSizeBytes, which DynamoDB updates
    about every six hours), else 0."""
    try:
        table = ctx.aws.client("dynamodb", region).describe_table(TableName=ctx.config.api.table)["Table"]
    except READ_ERRORS:
        return 0.0
    return table.get("TableSizeBytes", 0) / GB


def _site_gb() -> float:
    return sum(path.stat().st_size for path in WEB_DIR.rglob("*") if path.is_file()) / GB


def estimate(ctx: Context) -> list[dict[str, Any]]:
    """The lines of the estimate: the zone once, per region the health check, the table (the primary's and the
    replica, each with point-in-time recovery) and the site bucket, and the distribution."""
    check = ctx.config.dns.health_check
    features = ["HTTPS"] + (["fast interval (10 s)"] if check.interval == 10 else [])
    lines = [_line("Route 53 hosted zone (the domain's, used by this deployment)", "global", 1,
                   "route53_hosted_zone"),
             _line("CloudFront distribution (the site)", "global", 1, "cloudfront_distribution")]
    for region in ctx.config.regions.both:
        table_gb = _table_gb(ctx, region)
        lines += [
            _line(f"Route 53 health check of {ctx.config.dns.label(region)}.{ctx.config.dns.domain}", region, 1,
                  "route53_health_check"),
            _line(f"its optional features: {', '.join(features)}", region, len(features),
                  "route53_health_check_feature"),
            _line(f"DynamoDB table {ctx.config.api.table} storage (GB now)", region, table_gb, "dynamodb_storage"),
            _line("its point-in-time recovery (GB now)", region, table_gb, "dynamodb_pitr"),
            _line("S3 site bucket (GB)", region, _site_gb(), "s3_storage"),
        ]
    return lines


def estimate_item(ctx: Context) -> Item:
    lines = estimate(ctx)
    total = sum(line["usd"] for line in lines)
    return passed(GROUP, NAME, f"about ${total:.2f} a month before any traffic — an ESTIMATE from AWS list prices "
                  f"as of {PRICES_AS_OF} (no free tier deducted); traffic is billed on top",
                  total_usd=round(total, 2), prices_as_of=PRICES_AS_OF, lines=lines)
