"""CBV 2.0 vocabularies (bizStep, disposition) and how the timeline says them in plain words."""

import re

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


STEP_LABELS: dict[str, tuple[str, str]] = {
    "commissioning": ("Thu hoạch / tạo lô", "Harvested / lot created"),
    "packing": ("Đóng gói", "Packed"),
    "inspecting": ("Kiểm tra", "Inspected"),
    "storing": ("Lưu kho", "Stored"),
    "shipping": ("Xuất hàng", "Shipped"),
    "receiving": ("Nhận hàng", "Received"),
    "retail_selling": ("Bán lẻ", "Sold in a shop"),
    "holding": ("Tạm giữ", "Held"),
    "destroying": ("Tiêu hủy", "Destroyed"),
    "transporting": ("Vận chuyển", "Transported"),
    "sampling": ("Lấy mẫu", "Sampled"),
}
TRANSFORMATION_LABEL = ("Chế biến", "Processed")
RECALL_LABEL = ("Thu hồi", "Recalled")


def step_label(event_type: str, biz_step: str, disposition: str | None, lang: str) -> str:
    index = 1 if lang == "en" else 0
    if disposition == "recalled":
        return RECALL_LABEL[index]
    if event_type == "TransformationEvent":
        return TRANSFORMATION_LABEL[index]
    if biz_step in STEP_LABELS:
        return STEP_LABELS[biz_step][index]
    return biz_step.rsplit("/", 1)[-1].replace("_", " ").capitalize()


# UN/CEFACT Recommendation 20 codes for the units farmers use (EPCIS `uom`).
UOM = {"kg": "KGM", "g": "GRM", "t": "TNE", "tấn": "TNE", "l": "LTR", "lít": "LTR", "ml": "MLT"}
