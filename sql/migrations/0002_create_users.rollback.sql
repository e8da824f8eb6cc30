-- The functions in sql/functions that exist for this table go with it.
drop function if exists app.begin_request(text, uuid, text, text, text, text);
drop table app.users;
drop function if exists app_private.tg_users__stamp_row();
