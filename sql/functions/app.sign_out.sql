-- Signs the current user out of one session: revokes the access token in use until it would
-- have expired, and the refresh family of the given refresh token if it is the user's own.
-- Other sessions of the same user keep working. Also sweeps revocations that have expired.
create or replace function app.sign_out(
  refresh_hash bytea, access_token_id uuid, access_expires_at timestamptz
) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if sign_out.access_token_id is not null then
    insert into app_private.revoked_access_tokens (jti, expires_at)
    values (sign_out.access_token_id, sign_out.access_expires_at)
    on conflict (jti) do nothing;
  end if;
  update app_private.refresh_tokens as r set revoked_at = pg_catalog.now()
   where r.revoked_at is null
     and r.family_id = (select t.family_id from app_private.refresh_tokens as t
                         where t.token_hash = sign_out.refresh_hash
                           and t.user_id = app.current_user_id());
  delete from app_private.revoked_access_tokens as r where r.expires_at < pg_catalog.now();
end
$$;

comment on function app.sign_out(bytea, uuid, timestamptz) is
  'Revokes the caller''s access token and, if given and theirs, its refresh family.';
revoke all on function app.sign_out(bytea, uuid, timestamptz) from public;
grant execute on function app.sign_out(bytea, uuid, timestamptz) to app_user;
