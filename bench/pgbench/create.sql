-- The create scenario's transaction: app.create_task for a seeded normal user with no tags
-- and no unknown fields (what bench/scenarios/create.lua sends). Set `fields` to 1 for a task
-- with a priority, two tags and one unknown field, which the checks on app.tasks.tags and
-- app.tasks.extra then look into:
--   pgbench -n -M prepared -c 8 -j 2 -T 4 -D users=200 -D fields=0 -f bench/pgbench/create.sql URL
-- api/routes/tasks.py CREATE_TASK spells the API's statement.
\set n random(1, :users)
select * from app.create_task(row('bench-user-' || lpad(:n::text, 5, '0'), null, null, null, null, null, null)::app.request_context, 'A task from pgbench', null, false, case when :fields = 1 then 2::smallint end, null, false, case when :fields = 1 then '{work,home}'::text[] else '{}' end, 0, case when :fields = 1 then '{"color": "red"}'::jsonb else '{}' end);
