-- Creates a built-in account: a user row and its credentials, in one statement's worth of work.
-- The email is unique case-insensitively; of two racing sign-ups exactly one wins, the other is
-- refused with PT409. The password arrives already hashed (argon2id, in the API).
create or replace function app.sign_up(email text, password_hash text, name text)
returns table (id text, created_at timestamptz)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  new_id text := pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '');
begin
  insert into app.users as u (id, email, name)
  values (new_id, sign_up.email, sign_up.name);
  insert into app_private.accounts (user_id, email, password_hash)
  values (new_id, sign_up.email, sign_up.password_hash);
  return query select u.id, u.created_at from app.users as u where u.id = new_id;
exception when unique_violation then
  raise exception 'Email already registered' using errcode = 'PT409';
end
$$;

comment on function app.sign_up(text, text, text) is
  'Creates a user with a built-in account; PT409 when the email is taken.';
revoke all on function app.sign_up(text, text, text) from public;
grant execute on function app.sign_up(text, text, text) to app_user;
