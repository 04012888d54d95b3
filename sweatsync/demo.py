"""A sample ride the package synthesizes itself (no copied file): a hot, hard GPX ride with heart rate,
power and air temperature, so a newcomer sees a session, its charts and a cramp-risk email at once.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

DEMO_NAME = "sweatsync-demo-ride.gpx"


def demo_gpx(*, start: datetime | None = None, minutes: int = 255, temp_c: float = 33.0) -> bytes:
    """One point every 10 s along a loop near Seville in July heat; effort rises through the ride."""
    start = start or (datetime.now(UTC) - timedelta(minutes=minutes + 20)).replace(microsecond=0)
    points = []
    for i in range(minutes * 6 + 1):
        s = i * 10
        frac = s / (minutes * 60)
        angle = 2 * math.pi * frac * 3
        lat = 37.39 + 0.05 * math.sin(angle)
        lon = -5.98 + 0.07 * math.cos(angle)
        ele = 40 + 30 * math.sin(angle * 2)
        power = 215 + 45 * frac + 25 * math.sin(s / 97)
        hr = 138 + 30 * frac + 4 * math.sin(s / 131)
        temp = temp_c + 2.5 * math.sin(math.pi * frac)
        when = (start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
        points.append(
            f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}"><ele>{ele:.1f}</ele><time>{when}</time>'
            f"<extensions><power>{power:.0f}</power><gpxtpx:TrackPointExtension>"
            f"<gpxtpx:atemp>{temp:.1f}</gpxtpx:atemp><gpxtpx:hr>{hr:.0f}</gpxtpx:hr>"
            f"</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="sweatsync demo" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
        "<trk><name>sweatsync demo: a hot afternoon ride</name><type>cycling</type><trkseg>\n"
        + "\n".join(points)
        + "\n</trkseg></trk></gpx>\n"
    ).encode()
