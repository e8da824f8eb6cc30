"""schemathesis hooks, loaded by the run in test_schemathesis.py (SCHEMATHESIS_HOOKS).

OpenAPI's `format: email` cannot say what email-validator, behind the sign-up and sign-in
models, refuses besides bad syntax: special-use domains such as `.test` and `.localhost`,
which schemathesis' own generator picks. Left as it is, positive_data_acceptance would count
those refusals (422) as failures. Hypothesis' own e-mail strategy draws from the delegated
top-level domains instead; the malformed addresses the negative phases send are unchanged.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("email", st.emails())
