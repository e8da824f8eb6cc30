-- Back to 0010's check, which takes a salt of any length. Every stored hash passes it.
create or replace function app_private.is_password_hash(password_hash text) returns boolean
language sql immutable strict parallel safe
return password_hash ~ '^[$]argon2id[$]v=19[$]m=[0-9]{1,9},t=[0-9]{1,9},p=[0-9]{1,9}[$][A-Za-z0-9+/]{11,}[$][A-Za-z0-9+/]{43}$';
comment on function app_private.is_password_hash(text) is
  'Check of app_private.accounts.password_hash: argon2id v19, a salt of 8 bytes or more, a 32-byte hash.';
