-- The check on app.tasks.extra (migration 0008 created it and its constraint), the top-level
-- fields a client sent that the API does not model: an object of at most 20 keys and 16 KB
-- that names no modelled field; what api/models.py checks first. It runs on every write of a
-- task. PL/pgSQL keeps its plan for the session (the SQL version before was planned again by
-- every statement), and `{}`, the common case, skips the checks.
create or replace function app_private.extra_is_valid(extra jsonb) returns boolean
language plpgsql immutable strict parallel safe
set search_path = pg_catalog, pg_temp
as $$
begin
  if extra_is_valid.extra = '{}'::jsonb then
    return true;
  end if;
  return pg_catalog.jsonb_typeof(extra_is_valid.extra) = 'object'
     and pg_catalog.octet_length(extra_is_valid.extra::text) <= 16384
     and (select pg_catalog.count(*)
            from pg_catalog.jsonb_object_keys(extra_is_valid.extra)) <= 20
     and not extra_is_valid.extra ?| array['id', 'title', 'description', 'completed', 'status',
                                          'user_id', 'version', 'created_at', 'updated_at',
                                          'priority', 'due_date', 'tags', 'position'];
end
$$;

comment on function app_private.extra_is_valid(jsonb) is
  'Check of app.tasks.extra: an object of at most 20 keys and 16 KB naming no modelled field.';
