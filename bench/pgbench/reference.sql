-- The fixed reference bench/run.py holds the list against: what PostgreSQL itself spends to find
-- one user's tasks under the same forced row-level security the API runs under, and to send
-- them, with none of our request functions. In one transaction: the role switch, app.user_id,
-- and a plain select of the user's rows (100 for bench/seed.py's normal users) in id order, the
-- columns a task has in the API (not public_json, which would only make the rows wider). Our
-- own SQL cannot lower it: it reaches none of sql/functions but the app.current_user_id() that
-- the select_own policy calls. The user count comes from the command line, as for list.sql:
--   pgbench -n -M prepared -c 16 -j 2 -T 10 -D users=10000 -f bench/pgbench/reference.sql URL
\set n random(1, :users)
begin;
select pg_catalog.set_config('role', 'app_user', true), pg_catalog.set_config('app.user_id', 'bench-user-' || lpad(:n::text, 5, '0'), true);
select t.id, t.title, t.description, t.completed, t.user_id, t.version, t.created_at, t.updated_at from app.tasks as t order by t.id;
commit;
