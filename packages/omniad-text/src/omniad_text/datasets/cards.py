"""Registry cards for text datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_text.datasets"
# Text-ADBench / NLP-ADBench report AUROC and AUPR per one-vs-rest subset; F1-max beside them.
METRICS = ("core.auroc", "core.aupr", "core.f1_max")
TEXT_ADBENCH = "Text-ADBench (Xu et al., 2025); NLP-ADBench (Li et al., 2024)"
#: what ``text.table`` opens as a bare path (``omniad fit text.knn notes.txt``); kept in step with reading.SUFFIX_FORMATS
READS = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".txt", "/")


def register(registry: Registrar) -> None:
    text = {"modality": "text", "localization": None, "metrics": METRICS}
    registry.add(
        id="text.synthetic", target=f"{_P}.synthetic:Synthetic", params=f"{_P}.params:SyntheticParams", **text,
        split_seed_param="seed",
        summary="Seeded topic-vocabulary sentences; anomalies are texts of other topics and letter-scrambled texts",
        demo=True, demo_params={"n_train": 60, "n_test_normal": 20, "n_test_anomalous": 20},
    )
    registry.add(
        id="text.table", target=f"{_P}.table:TextTable", params=f"{_P}.params:TableParams", **text, needs_data=True,
        split_seed_param="seed",
        summary="CSV/TSV/JSONL/parquet of texts with a 0/1 label column, or a category column and the normal "
        "categories; unlabelled tables, .txt files and folders of .txt files with split='all' (own data)",
        path_param="path", reads=READS, probe=f"{_P}.probe:text_probe", source_params={"split": "all"},
    )
    registry.add(
        id="text.one_vs_rest", target=f"{_P}.table:OneVsRest", params=f"{_P}.params:OneVsRestParams", **text,
        split_seed_param="seed",
        needs_data=True, reference=TEXT_ADBENCH,
        summary="Any categorised text table, each category normal in turn (80/20 split), the others anomalous",
    )
    registry.add(
        id="text.bbc", target=f"{_P}.bbc:BBC", params=f"{_P}.params:BBCParams", **text, needs_data=True,
        split_seed_param="seed",
        summary="BBC News (2,225 articles, 5 categories) one-vs-rest; default root $OMNIAD_SHARED_DATA/data/bbc_news",
        reference=f"Greene & Cunningham, ICML 2006; {TEXT_ADBENCH}",
    )
