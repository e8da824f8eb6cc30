-- Replaces an account's password hash by one made with today's parameters, after a sign-in
-- found the stored one made with older ones. The caller proves it knows the password the same
-- way app.sign_in asks: the hash made with the stored parameters. A hash that does not match
-- changes nothing and is counted as a failed sign-in. True when the hash was replaced.
create or replace function app.rehash_password(
  email text, client_address text, password_hash text, new_password_hash text
) returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  update app_private.accounts as a
     set password_hash = rehash_password.new_password_hash, updated_at = pg_catalog.now()
   where pg_catalog.lower(a.email) = pg_catalog.lower(rehash_password.email)
     and a.password_hash = rehash_password.password_hash;
  if found then
    return true;
  end if;
  perform app_private.auth_failed(rehash_password.email, rehash_password.client_address);
  return false;
end
$$;

comment on function app.rehash_password(text, text, text, text) is
  'Stores a re-computed password hash, given the current one made from the password.';
revoke all on function app.rehash_password(text, text, text, text) from public;
grant execute on function app.rehash_password(text, text, text, text) to app_user;
