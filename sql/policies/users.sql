-- A user sees only their own row and may create only it (on first sight, in
-- app.begin_request). Deleting a user is an owner's job; it cascades to their tasks. The
-- request role has no delete grant: delete_self is what the owner acts under, through its
-- app_user membership, when app.erase_account erases the caller.
drop policy if exists select_self on app.users;
create policy select_self on app.users for select to app_user
  using (id = (select app.current_user_id()));

drop policy if exists insert_self on app.users;
create policy insert_self on app.users for insert to app_user
  with check (id = (select app.current_user_id()));

create or replace trigger _100_stamp_row before update on app.users
  for each row execute function app_private.tg_users__stamp_row();

-- Email and name follow what the user's tokens carry (app.begin_request).
drop policy if exists update_self on app.users;
create policy update_self on app.users for update to app_user
  using (id = (select app.current_user_id()))
  with check (id = (select app.current_user_id()));

drop policy if exists delete_self on app.users;
create policy delete_self on app.users for delete to app_user
  using (id = (select app.current_user_id()));
