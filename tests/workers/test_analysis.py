"""The glue from stored profiles to the models' Athlete."""

from __future__ import annotations

from datetime import UTC, datetime

from core.models import Profile
from workers.analysis import athlete_from_profile


def test_the_running_ftp_in_the_profile_reaches_the_models_next_to_the_cycling_ftp():
    profile = Profile(ftp_w=250, running_ftp_w=320, birth_year=1990)
    athlete = athlete_from_profile(profile, when=datetime(2026, 7, 1, tzinfo=UTC))
    assert (athlete.ftp_w, athlete.running_ftp_w, athlete.age) == (250, 320, 36)
