"""Routes of user administration (role admin): find accounts, change a role, (de)activate, reset a password."""

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import CurrentUserDep, requires_role
from service.auth.schemas import AccountPage, AccountRead, AccountUpdate, PasswordReset, Role
from service.auth.service import get_account, list_accounts, reset_password, update_account
from service.core.changes import invalidate_locally_after_writes
from service.core.db import DB


class UserAdminController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin"]
    guards = [requires_role("admin")]
    # this worker drops the user's cached token version before answering: their next request is refused here
    middleware = [invalidate_locally_after_writes("users", "user_id")]

    @get("/", operation_id="admin_list_users")
    async def list_users(
        self,
        db: DB,
        q: Annotated[str | None, QueryParameter(max_length=100, description="part of a name or phone number")] = None,
        role: FromQuery[Role | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> AccountPage:
        """Accounts, newest first, optionally matching a name or phone number, a role, active or not."""
        return await list_accounts(db, q, role, active, limit, offset)

    @get("/{user_id:uuid}", operation_id="admin_get_user")
    async def get_user(self, db: DB, user_id: FromPath[uuid.UUID]) -> AccountRead:
        """One account."""
        return await get_account(db, user_id)

    @patch("/{user_id:uuid}", operation_id="admin_update_user")
    async def update_user(
        self, current_user: CurrentUserDep, db: DB, user_id: FromPath[uuid.UUID], data: JSONBody[AccountUpdate]
    ) -> AccountRead:
        """Change the role or deactivate/reactivate; the user's current tokens end at once."""
        return await update_account(db, current_user, user_id, data)

    @post("/{user_id:uuid}/password", operation_id="admin_reset_password", status_code=200)
    async def reset_user_password(
        self, db: DB, state: State, user_id: FromPath[uuid.UUID], data: JSONBody[PasswordReset]
    ) -> AccountRead:
        """Set a new password for a user who lost theirs; their current tokens end at once."""
        return await reset_password(db, state.password_hashing, user_id, data)
