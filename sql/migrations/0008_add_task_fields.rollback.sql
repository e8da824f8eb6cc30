-- Back to 0007: the new fields, their indexes and checks go; the stored JSON is computed again
-- by 0006's app.task_public_json. As in 0006's rollback, the request functions that take or
-- render the new fields go too, and the version before creates its own when it migrates.
drop function if exists app.create_task(
  app.request_context, text, text, boolean, smallint, timestamptz, boolean, text[], integer, jsonb
);
drop function if exists app.replace_task(
  app.request_context, bigint, text, text, boolean, smallint, timestamptz, boolean, text[],
  integer, jsonb, integer
);
drop function if exists app.query_tasks(app.request_context, jsonb);

drop index app.tasks_user_id_completed_id_idx, app.tasks_user_id_updated_at_id_idx,
  app.tasks_user_id_title_idx;
alter table app.tasks drop column public_json;
drop function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz, smallint, timestamptz,
  boolean, text[], integer, jsonb
);

alter type app.task_public
  drop attribute status,
  drop attribute priority,
  drop attribute due_date,
  drop attribute tags,
  drop attribute position;

alter table app.tasks
  drop column priority,
  drop column due_at,
  drop column due_all_day,
  drop column tags,
  drop column position,
  drop column extra;
drop function app_private.tags_are_valid(text[]);
drop function app_private.extra_is_valid(jsonb);

create function app.task_public_json(
  id bigint, title text, description text, completed boolean, user_id text, version integer,
  created_at timestamptz, updated_at timestamptz
) returns text
language plpgsql immutable
set timezone = 'UTC'
as $$
begin
  return pg_catalog.to_json(
    row(task_public_json.id, task_public_json.title, task_public_json.description,
        task_public_json.completed, task_public_json.user_id, task_public_json.version,
        task_public_json.created_at, task_public_json.updated_at)::app.task_public
  )::text;
end
$$;
comment on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) is 'A task as the API sends it (TaskPublic), as JSON text with UTC timestamps.';
revoke all on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) from public;
grant execute on function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
) to app_user;

alter table app.tasks add column public_json text not null
  generated always as (app.task_public_json(id, title, description, completed, user_id, version,
                                            created_at, updated_at)) stored;
comment on column app.tasks.public_json is
  'The task as the API sends it (app.task_public_json of the other columns), kept by PostgreSQL.';
