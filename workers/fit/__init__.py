"""FIT parser adapter: bytes in, normalized `workers.activity.Activity` objects out.

Public API::

    parse_fit(data: bytes) -> ParseResult        # FitRejected(reason) for files that cannot become sessions
    sniff_fit_header(head: bytes) -> str | None   # None if the bytes look like a FIT header, else a reason
    decompress_gzip_capped(data_or_stream, cap_bytes) -> bytes  # for .fit.gz uploads

Everything is pure (no I/O besides what it is given) and every reason is written for the athlete.

Decoders: the numpy fast path (`fast`: records column-wise with numpy, the other messages with fitparse)
decodes every segment first; what it declines (logged with the reason) goes to fitparse, the reference, and
fitdecode reads the segments fitparse cannot (COROS misaligned field sizes, ...). `Activity.decoder` and
`ParseResult.decoder` say which one produced the data ("numpy", "fitparse", "fitdecode"; joined with "+" on
the result when segments differ); `parse_fit(data, fast=False)` is the reference path alone. Any exception
from a decoder is treated as a fact about the file.

Activities:

* One Activity per session message. Multisport/triathlon files give one Activity per leg, in time order, with
  `leg_index` 0..n-1 over the legs kept: swim, bike, run (and any other sport) legs are kept, `transition`
  legs are dropped with their records, because an athlete reads a triathlon as its disciplines and a few
  transition minutes are too short to analyse on their own (their sweat is left out). Records go to the leg
  whose window [session start_time, next session's start_time) holds their timestamp; a single-session file
  gets all its records whatever the session's times say.
* Chained files (several FIT files in one upload): every activity segment gives its activities, in order
  (at most 100 activities, 1,000 segments). Segments that hold only HRM `hr` messages (FR935/FR945 swims)
  feed the heart-rate merge of the whole upload.
* Swim heart rate: beats stored by an HRM-Swim/Tri strap (`hr` messages) are averaged into each record's
  (previous record, record] window and win over record.heart_rate where they exist, as the FIT SDK does; the
  device's own lap and session averages are computed from them (the wrist sensor under water is not).
* A file with records but no session message (summary never written, truncated) gives one Activity built
  from its records, with an empty `summary`.
* `t` is seconds since the activity's first record and `start_time` is that record's time (tz-aware UTC); the
  session's own start_time is in `summary["start_time"]`.

Faults: a file cut off mid-message, or damaged part-way, keeps the records before the break (`partial=True`,
warning in plain words). A file CRC mismatch keeps the data with a warning. Fewer than 10 records is refused;
a shorter-than-a-minute activity is kept with a warning (the sample corpus has valid 13 s files). Records
whose time goes backwards, or jumps by days (a corrupt timestamp), are dropped with a warning.

Modules: `framing` (sniffing, chained segments, structural scan and repair, CRC), `fast` (the numpy path),
`decoders` (fitparse and fitdecode to one neutral message stream), `collect` (messages to columns), `build`
(activities), `parse` (the orchestration and the verdict), `intake` (capped gzip).
"""

from workers.fit.framing import sniff_fit_header
from workers.fit.intake import decompress_gzip_capped
from workers.fit.parse import parse_fit

__all__ = ["decompress_gzip_capped", "parse_fit", "sniff_fit_header"]
