"""Partners (exporters, supermarket chains, the national portal): their API clients, how they sign in.

Shared infrastructure like `service.auth`: admins manage partners here; `traceability.epcis` serves them.
"""
