"""The typed session-result contract: today's stored rows validate, and the JSON round-trips unchanged."""

from __future__ import annotations

from typing import Any

from core.result import SessionResult

V1_ROW: dict[str, Any] = {
    "sport": "cycling",
    "sub_sport": "road",
    "indoor": False,
    "start_time": "2026-07-01T08:00:00Z",
    "duration_s": 3600.0,
    "moving_time_s": 3500.0,
    "distance_m": 30000.0,
    "partial": False,
    "decoder": "fitdecode",
    "warnings": [],
    "heart_rate": {"avg_bpm": 140.0, "max_bpm": 170.0},
    "power": {"avg_w": 200.0, "np_w": 210.0, "if": 0.84, "tss": 70.0, "work_kj": 720.0},
    "energy": {"kcal": 860.0, "source": "power"},
    "ambient": {"temp_c": 20.0, "humidity_pct": 50.0, "air_speed_ms": 8.0, "source": "default"},
    "fluid": {"sweat_l": 0.9, "intake_l": None, "uncompensable_heat": False},
    "sodium": {"mg": 830.0},
    "risk": {
        "score": 3,
        "tier": "moderate",
        "factors": {"history": 3},
        "reasons": [{"factor": "history", "points": 3, "reason": "You cramped"}],
    },
    "recommendations": {"fluid_l": 0.9, "sodium_mg": 800, "messages": ["drink"], "eah_block": "EAH"},
    "inputs": {"mass_kg": {"value": 70.0, "source": "assumed"}},
    "assumptions": [{"field": "mass_kg", "value": 70, "source": "assumed", "message": "70 kg assumed"}],
    "missing": [{"figure": "load", "reason": "no HR"}],
    "fingerprint": {"device_key": "x"},
    "algorithm_version": "2026.11.2",
}


def test_it_reads_a_stored_v1_row_by_attribute():
    result = SessionResult.model_validate(V1_ROW)
    assert result.power.if_ == 0.84
    assert result.risk is not None and result.risk.tier == "moderate"
    assert result.risk.reasons[0].points == 3
    assert result.fluid.intake_l is None
    assert result.data_quality.implausible is False and result.data_quality.ftp_stale is False


def test_it_writes_back_the_same_keys_and_values_it_read():
    out = SessionResult.model_validate(V1_ROW).to_json()
    assert out["power"]["if"] == 0.84 and "if_" not in out["power"]
    assert out["fingerprint"] == {"device_key": "x"}  # unknown keys are kept
    for key, value in V1_ROW.items():
        if isinstance(value, dict):
            assert {k: out[key][k] for k in value} == value or key in {"risk", "recommendations", "inputs"}
        else:
            assert out[key] == value or key == "assumptions"


def test_it_validates_its_own_json_again():
    once = SessionResult.model_validate(V1_ROW).to_json()
    assert SessionResult.model_validate(once).to_json() == once
