"""wildrydes-mr: the Wild Rydes multi-region serverless ticketing app, provisioned with boto3.

This package must stay cheap to import: `wildrydes --help` imports it, so nothing here touches boto3.
"""

__version__ = "0.1.0"
