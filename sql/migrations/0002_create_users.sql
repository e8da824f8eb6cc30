-- Users the API has seen. Ids are text because Better Auth's are 32-character strings; a row is
-- created on a user's first request (app.begin_request), so tasks can reference it.
-- depends: 0001_create_schemas_and_roles

create table app.users (
  id text primary key check (char_length(id) between 1 and 255),
  email text check (char_length(email) <= 320),
  name text check (char_length(name) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table app.users is 'One row per user that has called the API; deleting it deletes their tasks.';

alter table app.users enable row level security;
alter table app.users force row level security;
grant select, insert (id) on app.users to app_user;
