"""A stand-in for the public DNS in tests: a dnslib server on 127.0.0.1 (a free UDP port) answering each
delegated zone's NS query with the name servers it was given, NXDOMAIN for any other name (the answers can be
changed while it runs: `zones` is read at each query)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import NS, QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class DelegationResolver(BaseResolver):
    def __init__(self, zones: dict[str, list[str]]):
        self.zones = zones
        self.queries: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        self.queries.append((name, QTYPE[request.q.qtype]))
        servers = self.zones.get(name)
        if servers is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.NS:
            for server in servers:
                reply.add_answer(RR(request.q.qname, QTYPE.NS, rdata=NS(server.rstrip(".") + "."), ttl=172800))
        return reply


@contextmanager
def public_dns(zones: dict[str, list[str]]) -> Iterator[tuple[tuple[str, int], DelegationResolver]]:
    """Runs the server for the `with` block: yields ((address, port), its resolver)."""
    resolver = DelegationResolver(zones)
    server = DNSServer(resolver, address="127.0.0.1", port=0, logger=DNSLogger("-recv,-send,-request,-reply,"
                                                                                "-truncated,-error,-data"))
    server.start_thread()
    try:
        yield server.server.server_address[:2], resolver
    finally:
        server.stop()
