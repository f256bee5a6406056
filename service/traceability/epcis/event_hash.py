"""The CBV 2.0 event hash ID (section 8.9; RFC 6920 `ni:///sha-256;{hex}?ver=CBV2.0`), one pinned canonicalisation.

Followed as closely as this service needs: the pre-hash string concatenates `name=value` pieces
with no separator, fields in the CBV's canonical order (eventType, eventTime, eventTimeZoneOffset,
certificationInfo, parentID, epcList, inputEPCList, childEPCs, quantityList, childQuantityList,
inputQuantityList, outputEPCList, outputQuantityList, action, transformationID, bizStep, disposition,
persistentDisposition, readPoint, bizLocation, bizTransactionList, sourceList, destinationList,
sensorElementList, ilmd, then extensions sorted by name); lists of identifiers sorted; times in UTC
with milliseconds and `Z`; bare CBV words as their GS1 Web Vocabulary URIs
(https://ref.gs1.org/cbv/BizStep-receiving); numbers without trailing zeros. eventID, recordTime
and errorDeclaration are left out, so an error declaration hashes to its original event's ID.
Pinned here: EPC URNs are not rewritten to Digital Links (we hash what the partner sent) and
nested values are serialised with keys sorted; the pre-hash string is stored beside the ID.
"""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from service.traceability.batches.vocab import BIZ_STEPS, DISPOSITIONS

ORDER = (
    "eventType",
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
)
LEFT_OUT = frozenset({"eventID", "recordTime", "errorDeclaration", "@context", "type"})
EPC_LISTS = frozenset({"epcList", "inputEPCList", "childEPCs", "outputEPCList"})
CBV = "https://ref.gs1.org/cbv/"


def utc_millis(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def number(value: Any) -> str:
    try:
        text = format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)
    return "0" if text == "-0" else text


def vocabulary(field: str, value: str) -> str:
    """A bare CBV word as its Web Vocabulary URI: receiving -> https://ref.gs1.org/cbv/BizStep-receiving."""
    if field == "bizStep" and value in BIZ_STEPS:
        return f"{CBV}BizStep-{value}"
    if field in ("disposition", "set", "unset") and value in DISPOSITIONS:
        return f"{CBV}Disp-{value}"
    if field == "type" and ":" not in value:
        return f"{CBV}BTT-{value}"
    return value


def _value(field: str, value: Any) -> str:
    if isinstance(value, dict):
        return "".join(_piece(k, v) for k, v in sorted(value.items()))
    if isinstance(value, list):
        items = [_value(field, v) for v in value]
        if all(isinstance(v, str) for v in value):
            items.sort()
        return "".join(items)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if value is None:
        return ""
    text = str(value)
    if field in ("eventTime", "time", "startTime", "endTime") and "T" in text:
        try:
            return utc_millis(text)
        except ValueError:
            return text
    return vocabulary(field, text)


def _piece(field: str, value: Any) -> str:
    if field in EPC_LISTS:
        return field + "".join(f"epc={epc}" for epc in sorted(str(e) for e in value))
    if field.endswith("QuantityList") or field == "quantityList":
        elements = sorted(_value("quantityElement", q) for q in value)
        return field + "".join(f"quantityElement{e}" for e in elements)
    if isinstance(value, (dict, list)):
        return field + _value(field, value)
    return f"{field}={_value(field, value)}"


def pre_hash_string(event: dict[str, Any]) -> str:
    parts = [f"eventType={event.get('type', '')}"]
    for field in ORDER[1:]:
        if field in event:
            parts.append(_piece(field, event[field]))
    extensions = sorted(k for k in event if k not in LEFT_OUT and k not in ORDER)
    parts.extend(_piece(k, event[k]) for k in extensions)
    return "".join(parts)


def event_hash_id(pre_hash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(pre_hash.encode('utf-8')).hexdigest()}?ver=CBV2.0"
