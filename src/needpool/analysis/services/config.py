"""The analysis settings row (one per site) and the default priority thresholds; reads only."""

from __future__ import annotations

from needpool.analysis.models import AnalysisSettings

DEFAULT_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "matrix_3d": (75, 50, 25),
    "value_cost": (2, 1, 0.5),
    "weighted": (75, 50, 25),
    "rice": (100, 30, 10),
}


def analysis_settings() -> AnalysisSettings:
    found = AnalysisSettings.objects.filter(pk=1).first()
    if found is None:
        found, _created = AnalysisSettings.objects.get_or_create(pk=1)
    return found


def thresholds_of(config: AnalysisSettings, model: str) -> tuple[float, float, float]:
    raw = (config.thresholds or {}).get(model)
    if raw is None:
        return DEFAULT_THRESHOLDS.get(model, (75, 50, 25))
    return (float(raw[0]), float(raw[1]), float(raw[2]))
