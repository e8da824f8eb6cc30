-- Sign-in's second step, and erasure's confirmation: records the hash the API made of the
-- password it was given, with the parameters app.password_parameters (or app.own_account)
-- handed out, and counts the attempt (app_private.count_attempt). It compares nothing: the
-- comparison is app.sign_in's, or app.erase_account's, in a later transaction, and each of
-- them accepts only an attempt that another transaction committed. So every comparison has
-- been counted in a transaction that committed, and rolling back learns nothing: raw SQL as the
-- request role guesses no faster than the limit allows. Returns the attempt's id, or null and
-- the seconds to wait when the email or the address is past its limit. Attempts last 5
-- minutes; older ones are deleted here.
create or replace function app.sign_in_attempt(
  email text, client_address text, password_hash text
) returns table (attempt_id uuid, wait_seconds integer)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  client text := pg_catalog.left(coalesce(sign_in_attempt.client_address, ''), 64);
  wait integer;
  new_id uuid;
begin
  delete from app_private.sign_in_attempts as a
   where a.created_at < pg_catalog.now() - interval '5 minutes';
  wait := app_private.count_attempt(sign_in_attempt.email, client);
  if wait > 0 then
    return query select null::uuid, wait;
    return;
  end if;
  insert into app_private.sign_in_attempts
    (email, client_address, password_parameters, password_digest)
  values (pg_catalog.lower(sign_in_attempt.email collate pg_catalog."default"), client,
          case when app_private.is_password_hash(sign_in_attempt.password_hash)
               then app_private.hash_parameters(sign_in_attempt.password_hash) else '' end,
          pg_catalog.sha256(pg_catalog.convert_to(
            coalesce(sign_in_attempt.password_hash, ''), 'UTF8')))
  returning id into new_id;
  return query select new_id, 0;
end
$$;

comment on function app.sign_in_attempt(text, text, text) is
  'Counts and records a password attempt for a later transaction to compare.';
revoke all on function app.sign_in_attempt(text, text, text) from public;
grant execute on function app.sign_in_attempt(text, text, text) to app_user;
