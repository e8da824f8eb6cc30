-- Drops both schemas and everything in them, including the functions and policies that
-- sql/functions and sql/policies put there. The cluster-wide app_user role stays: other
-- databases may still use it (drop it by hand with `drop role app_user` once none does).
drop schema app_private cascade;
drop schema app cascade;
