-- Back to 0007: the change feed's tables, column and functions go, and so do app.list_tasks and
-- app_private.purge_expired in their new shapes, so that the version before creates its own
-- when it migrates. Until then, listing tasks fails for want of its function.
drop function if exists app.task_changes(app.request_context, bigint, bigint, integer);
drop function if exists app.list_tasks(app.request_context, bigint[]);
drop function if exists app_private.purge_expired(interval, interval, interval, interval);
drop trigger if exists _200_record_change on app.tasks;
drop trigger if exists _200_record_deletion on app.tasks;
drop function if exists app_private.tg_tasks__record_change();

drop index app.tasks_user_id_change_seq_idx;
alter table app.tasks drop column change_seq;
drop table app.task_tombstones;
drop table app.task_sync_states;
