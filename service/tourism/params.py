"""Request parameters the tourism routes share: the asked language, and the public base URL for links."""

from typing import Annotated, Any

from litestar.datastructures import State
from litestar.params import QueryParameter

from service.settings import Settings

LangQuery = Annotated[str, QueryParameter(min_length=2, max_length=35, description="BCP 47 tag, e.g. vi, en")]


def base_url(state: State) -> str:
    """The public origin that links in answers start with (Settings.base_url)."""
    settings: Settings = state.settings
    return settings.base_url


def get_and_head_ids(name: str) -> Any:
    """GET and HEAD of one handler need distinct OpenAPI operation ids: `name` and `name_head`."""
    return lambda _handler, method, _path: name if method == "GET" else f"{name}_head"
