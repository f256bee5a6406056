"""Routes: register, sign in, who am I, change my password."""

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from service.auth.guards import CurrentUserDep, client_address
from service.auth.schemas import LoginRequest, PasswordChange, RegisterRequest, TokenResponse, UserRead
from service.auth.service import authenticate, change_own_password, issue_token, register_farmer, signed_in_user
from service.auth.sessions import Sessions
from service.core.db import DB
from service.settings import Settings


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/register", operation_id="register", exclude_from_auth=True, status_code=201)
    async def register(
        self, request: Request[Any, Any, Any], db: DB, state: State, data: JSONBody[RegisterRequest]
    ) -> TokenResponse:
        """Farmer self-registration; returns a token so the app can go on straight away."""
        settings: Settings = state.settings
        account = await register_farmer(db, state.password_hashing, data, client_address(request), settings)
        return issue_token(state.jwt_auth, account, settings.jwt_ttl_seconds)

    @post("/auth/login", operation_id="login", exclude_from_auth=True, status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: State,
        data: JSONBody[LoginRequest],
    ) -> TokenResponse:
        """Exchange phone and password for a bearer token."""
        settings: Settings = state.settings
        account = await authenticate(db, state.password_hashing, data, client_address(request), settings)
        return issue_token(state.jwt_auth, account, settings.jwt_ttl_seconds)

    @get("/me", operation_id="me")
    async def me(self, current_user: CurrentUserDep, db: DB) -> UserRead:
        """The signed-in user."""
        return await signed_in_user(db, current_user)

    @post("/me/password", operation_id="change_own_password", status_code=200)
    async def change_password(
        self, current_user: CurrentUserDep, db: DB, state: State, data: JSONBody[PasswordChange]
    ) -> TokenResponse:
        """Change my password (the current one is required); my other tokens end, a new one is returned."""
        settings: Settings = state.settings
        account = await change_own_password(db, state.password_hashing, current_user, data, settings)
        sessions: Sessions = state.sessions
        sessions.forget(current_user.id)
        return issue_token(state.jwt_auth, account, settings.jwt_ttl_seconds)
