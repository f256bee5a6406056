"""Routes: register, sign in, who am I."""

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from service.auth.guards import CurrentUserDep, client_address
from service.auth.schemas import LoginRequest, RegisterRequest, TokenResponse, UserRead
from service.auth.service import authenticate, issue_token, register_farmer, signed_in_user
from service.core.db import DB
from service.settings import Settings


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/register", operation_id="register", exclude_from_auth=True, status_code=201)
    async def register(self, db: DB, state: State, data: JSONBody[RegisterRequest]) -> TokenResponse:
        """Farmer self-registration; returns a token so the app can go on straight away."""
        user = await register_farmer(db, data)
        settings: Settings = state.settings
        return issue_token(state.jwt_auth, user, settings.jwt_ttl_seconds)

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
        user = await authenticate(db, data, client_address(request), settings)
        return issue_token(state.jwt_auth, user, settings.jwt_ttl_seconds)

    @get("/me", operation_id="me")
    async def me(self, current_user: CurrentUserDep, db: DB) -> UserRead:
        """The signed-in user."""
        return await signed_in_user(db, current_user)
