"""CBV 2.0 vocabularies (bizStep, disposition) and how the timeline says them in plain words."""

import re
from urllib.parse import unquote

BIZ_STEPS = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
        "sensor_reporting",
        "sampling",
    ]
)
DISPOSITIONS = frozenset(
    [
        "active",
        "container_closed",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "no_pedigree_match",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unknown",
        "available",
        "completeness_verified",
        "completeness_inferred",
        "conformant",
        "container_open",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "non_conformant",
        "unavailable",
    ]
)
# The disposition a step implies when the client gives none.
DEFAULT_DISPOSITION = {
    "commissioning": "active",
    "packing": "in_progress",
    "storing": "in_progress",
    "shipping": "in_transit",
    "receiving": "in_progress",
    "retail_selling": "retail_sold",
    "destroying": "destroyed",
}
# Steps still allowed once a batch is recalled.
AFTER_RECALL = frozenset({"inspecting", "destroying"})

# An invented step or disposition is a URI outside GS1's own CBV namespaces.
_URI = re.compile(r"^(https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s<>\"{}|\\^`]*)?|urn:[a-z0-9][a-z0-9-]{0,31}:[^\s]+)$")
_CBV_NAMESPACE = re.compile(r"^(urn:epcglobal:cbv|https?://ns\.gs1\.org/cbv/)")


def is_custom_uri(value: str) -> bool:
    return bool(_URI.match(value)) and not _CBV_NAMESPACE.match(value)


def valid_step(value: str) -> bool:
    return value in BIZ_STEPS or is_custom_uri(value)


def valid_disposition(value: str) -> bool:
    return value in DISPOSITIONS or is_custom_uri(value)


# Steps only inspectors record, through their own endpoints (inspections, recalls). A producer's event never
# borrows their wording, whatever its URI reads like ("urn:x:inspecting", ".../Duoc-So-NN-kiem-dinh-dat").
RESERVED_STEPS = frozenset({"inspecting"})

# How the shopper page says each step, Vietnamese first.
STEP_LABELS: dict[str, tuple[str, str]] = {
    "commissioning": ("Thu hoạch, tạo lô", "Harvested, lot created"),
    "packing": ("Đóng gói", "Packed"),
    "storing": ("Lưu kho", "Stored"),
    "shipping": ("Xuất hàng", "Shipped"),
    "receiving": ("Nhận hàng", "Received"),
    "retail_selling": ("Bày bán tại cửa hàng", "On sale in a shop"),
    "holding": ("Tạm giữ", "Held"),
    "transporting": ("Vận chuyển", "Transported"),
    "destroying": ("Tiêu hủy", "Destroyed"),
    "sampling": ("Lấy mẫu", "Sampled"),
}
INSPECTION_LABEL = ("Kiểm tra chất lượng", "Quality inspected")
TRANSFORMATION_LABEL = ("Chế biến", "Processed")
RECALL_LABEL = ("Thu hồi", "Recalled")
PRODUCER_NOTE = ("Ghi chú của nhà sản xuất", "Producer's note")

_CBV_STEP = re.compile(r"^(?:urn:epcglobal:cbv:bizstep:|https?://ns\.gs1\.org/cbv/BizStep-)([a-z_]+)$")


def cbv_step(biz_step: str) -> str | None:
    """The CBV step a value names (bare, or in GS1's own URI forms); None for an invented URI."""
    if biz_step in BIZ_STEPS:
        return biz_step
    found = _CBV_STEP.match(biz_step)
    return found.group(1) if found and found.group(1) in BIZ_STEPS else None


def is_official(biz_step: str, disposition: str | None) -> bool:
    """Inspections and recalls: only their endpoints (inspectors of an authority) write these."""
    return biz_step == "inspecting" or disposition == "recalled"


def producer_words(biz_step: str) -> str:
    """An invented step in the producer's own words: the URI's last segment, decoded, at most 80 characters."""
    tail = re.split(r"[/:#]", biz_step.rstrip("/:#"))[-1]
    words = " ".join(unquote(tail).replace("_", " ").replace("-", " ").split())
    return (words or biz_step)[:80]


def step_label(event_type: str, biz_step: str, disposition: str | None, lang: str) -> str:
    """Plain words for a timeline entry; invented steps are labelled as the producer's note, never as a CBV step."""
    index = 1 if lang == "en" else 0
    if is_official(biz_step, disposition):
        return RECALL_LABEL[index] if disposition == "recalled" else INSPECTION_LABEL[index]
    if event_type == "TransformationEvent":
        return TRANSFORMATION_LABEL[index]
    name = cbv_step(biz_step)
    if name is not None and name not in RESERVED_STEPS:
        return STEP_LABELS[name][index] if name in STEP_LABELS else name.replace("_", " ").capitalize()
    return f"{PRODUCER_NOTE[index]}: “{producer_words(biz_step)}”"


# UN/CEFACT Recommendation 20 codes for the units farmers use (EPCIS `uom`).
UOM = {"kg": "KGM", "g": "GRM", "t": "TNE", "tấn": "TNE", "l": "LTR", "lít": "LTR", "ml": "MLT"}
