"""Who a caller is: bearer credentials, Better Auth, built-in accounts, the audit trail."""
