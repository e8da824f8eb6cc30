-- The get-one scenario's transaction for a token that has an id (a `jti`, as the API's own
-- access tokens have), which makes app.begin_request look the id up among the revocations
-- (app_private.access_token_revoked). The task id is one no user has, so the statement
-- measures the request's opening and the lookup, not the task. Without the token id (replace
-- it with null) it is the same statement for a token with `sub` and `exp` only:
--   pgbench -n -M prepared -c 8 -j 2 -T 4 -D users=200 -f bench/pgbench/get_with_token_id.sql URL
-- api/routes/tasks.py GET_TASK spells the API's statement.
\set n random(1, :users)
select * from app.get_task(row('bench-user-' || lpad(:n::text, 5, '0'), '8f14e45f-ceea-467f-a0e6-1c5a5a0e3a11', null, null, null, null, null)::app.request_context, -1);
