-- Tasks, one owner each. The checks mirror the API's validation so that raw SQL cannot store
-- what the API would refuse. user_id defaults to the transaction's user, and the request role may
-- not name it at all: the insert policy and the column grants pin it.
-- depends: 0002_create_users

create table app.tasks (
  id bigint generated always as identity primary key,
  user_id text not null default nullif(current_setting('app.user_id', true), '')
    references app.users (id) on delete cascade,
  -- Trimmed of exactly what Python's str.strip() trims (Unicode whitespace), as the API does.
  title text not null check (char_length(title) between 1 and 200 and title = btrim(title, e' \t\n\r\f\x0b\x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000')),
  description text check (char_length(description) <= 2000),
  completed boolean not null default false,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table app.tasks is 'A user''s to-do items; version counts updates for optimistic locking.';
comment on column app.tasks.version is 'Bumped by every update; an update naming an older version is refused.';

-- Listing a user's tasks in id order is the hot path, and every policy filters on user_id.
create index tasks_user_id_id_idx on app.tasks (user_id, id);

alter table app.tasks enable row level security;
alter table app.tasks force row level security;
grant select, insert (title, description, completed),
  update (title, description, completed, version), delete on app.tasks to app_user;
