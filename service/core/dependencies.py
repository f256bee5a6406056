"""App-wide dependencies a handler declares by name: `base_url: BaseUrl` (wired in app.py).

`db: DB` lives in core.db and `current_user: CurrentUserDep` in auth.guards, beside what they wrap.
"""

from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency

BaseUrl: TypeAlias = NamedDependency[str]


def provide_base_url(state: State) -> str:
    """The public address links and identifiers are built on (settings.base_url)."""
    return str(state.settings.base_url)
