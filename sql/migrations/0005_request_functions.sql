-- One statement per request. Each task endpoint becomes one SQL function (sql/functions/app.*_task*.sql)
-- that opens the request (app.begin_request) and runs the endpoint's query, so a request costs one
-- round trip and one implicit transaction instead of begin, context, query and commit.
-- Here: the types those functions take and return; the old six-argument app.begin_request and
-- app.task_json, which they replace, go.
-- depends: 0004_create_identity

-- Whom a request acts for, as the API knows it before the database has its say; the argument of
-- app.begin_request and of every request function.
create type app.request_context as (
  user_id text,          -- a verified JWT's subject; null for a Better Auth session token
  token_id uuid,         -- our access tokens' jti, checked against revocations
  session_token text,    -- a Better Auth session token, looked up in session_table
  session_table text,    -- schema.table of Better Auth's sessions
  email text,            -- claims that refresh the user's row when they change
  name text,
  path_user_id text      -- the user id a URL names (/api/{user_id}/tasks); must be the caller
);
comment on type app.request_context is 'The caller of one API request; see app.begin_request.';
grant usage on type app.request_context to public;

-- A task as the API sends it (TaskPublic): its JSON is this type's, field by field.
create type app.task_public as (
  id bigint,
  title text,
  description text,
  completed boolean,
  user_id text,
  version integer,
  created_at timestamptz,
  updated_at timestamptz
);
comment on type app.task_public is 'A task in the API''s JSON shape (TaskPublic).';
grant usage on type app.task_public to app_user;

drop function if exists app.begin_request(text, uuid, text, text, text, text);
drop function if exists app.task_json(app.tasks);
