-- A stored hash's salt is at most 64 bytes (86 base64 characters), as the API accepts
-- (api/identity/accounts.py). 0010's check took a salt of any length: an account whose hash a
-- caller of app.sign_up made up with a salt of megabytes handed that salt to the API at every
-- sign-in. The check's function is replaced in place, so its constraint holds the new form
-- from now on; the hashes already stored are checked against it before this commits, with
-- writers held off meanwhile.
-- depends: 0010_check_passwords_in_the_database

lock table app_private.accounts in share mode;

create or replace function app_private.is_password_hash(password_hash text) returns boolean
language sql immutable strict parallel safe
return password_hash ~ '^[$]argon2id[$]v=19[$]m=[0-9]{1,9},t=[0-9]{1,9},p=[0-9]{1,9}[$][A-Za-z0-9+/]{11,86}[$][A-Za-z0-9+/]{43}$';
comment on function app_private.is_password_hash(text) is
  'Check of app_private.accounts.password_hash: argon2id v19, a salt of 8 to 64 bytes, a 32-byte hash.';

do $$
declare
  misfits bigint;
begin
  select count(*) into misfits from app_private.accounts as a
   where not app_private.is_password_hash(a.password_hash);
  if misfits > 0 then
    raise exception '% account(s) in app_private.accounts have a password hash whose salt is over 64 bytes', misfits
      using errcode = 'check_violation',
            hint = 'No hash the API makes has one: delete those accounts, then migrate again.';
  end if;
end
$$;
