"""Lambda handlers of the Wild Rydes ticketing API (API Gateway REST, Lambda proxy integration).

Each handler module works both as `lambda_src.<module>.handler` and, deployed flat (the zip root holds these
files), as `<module>.handler`. boto3 is the only dependency; it ships with the Lambda runtime.
"""
