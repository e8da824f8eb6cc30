-- Who may touch which task: a user sees and changes only their own, one policy per command.
-- With no app.user_id set, current_user_id() is null and no row matches.
drop policy if exists select_own on app.tasks;
create policy select_own on app.tasks for select to app_user
  using (user_id = (select app.current_user_id()));

drop policy if exists insert_own on app.tasks;
create policy insert_own on app.tasks for insert to app_user
  with check (user_id = (select app.current_user_id()));

drop policy if exists update_own on app.tasks;
create policy update_own on app.tasks for update to app_user
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));

drop policy if exists delete_own on app.tasks;
create policy delete_own on app.tasks for delete to app_user
  using (user_id = (select app.current_user_id()));

create or replace trigger _100_stamp_row before update on app.tasks
  for each row execute function app_private.tg_tasks__stamp_row();

-- Every write takes its owner's next change number (the change feed, the list's ETag); after
-- _100_stamp_row, so that a refused update takes none.
create or replace trigger _200_record_change before insert or update on app.tasks
  for each row execute function app_private.tg_tasks__record_change();
create or replace trigger _200_record_deletion after delete on app.tasks
  for each row execute function app_private.tg_tasks__record_change();
