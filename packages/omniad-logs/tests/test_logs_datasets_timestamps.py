"""Line timestamps: every shipped loghub header format gives every line a time, and times that do not read are said.

Formats with a 2k sample in ``../shared`` are checked on it; the six without one (Android, HealthApp,
Mac, OpenStack, Thunderbird, Windows) on lines copied from their loghub 2k samples, written to tmp_path.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad_logs.datasets.reading import line_timestamp, shared_data_root
from omniad_logs.parsing import LOG_FORMATS

LOGHUB = shared_data_root() / "data" / "loghub"


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


#: lines of the loghub 2k samples of the formats ../shared has no sample of, with each line's time
SAMPLES: dict[str, list[tuple[str, float]]] = {
    "Android": [
        ("03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = "
         "AppWindowToken{9f4ef63 token=Token{a64f992}}, allDrawn= false", utc(1900, 3, 17, 16, 13, 38, 811000)),
        ("03-17 16:13:38.819  1702  8671 D PowerManagerService: acquire lock=233570404, flags=0x1, tag=\"View Lock\"",
         utc(1900, 3, 17, 16, 13, 38, 819000)),
        ("03-17 16:13:39.105  2227  2227 D TextView: visible is system.time.showampm", utc(1900, 3, 17, 16, 13, 39, 105000)),
    ],
    "HealthApp": [
        ("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579", utc(2017, 12, 23, 22, 15, 29, 606000)),
        ("20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4", utc(2017, 12, 23, 22, 15, 29, 615000)),
        ("20171223-22:15:29:633|Step_StandReportReceiver|30002312|onReceive action: android.intent.action.SCREEN_ON",
         utc(2017, 12, 23, 22, 15, 29, 633000)),
    ],
    "Mac": [
        ("Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback - "
         "Thunderbolt HPD packet for route = 0x0 port = 11 unplug = 0", utc(1900, 7, 1, 9, 0, 55)),
        ("Jul  1 09:01:05 calvisitor-10-105-160-95 com.apple.CDScheduler[43]: Thermal pressure state: 1 Memory "
         "pressure state: 0", utc(1900, 7, 1, 9, 1, 5)),
        ("Jul  1 09:02:26 calvisitor-10-105-160-95 kernel[0]: ARPT: 620701.011328: AirPort_Brcm43xx::syncPowerState: "
         "WWEN[enabled]", utc(1900, 7, 1, 9, 2, 26)),
    ],
    "OpenStack": [
        ("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server "
         "[req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 - - -] 10.11.10.1 "
         "\"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
         utc(2017, 5, 16, 0, 0, 0, 8000)),
        ("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.272 25746 INFO nova.osapi_compute.wsgi.server "
         "[req-9bc36dd9-91c5-4314-898a-47625eb93b09 113d3a99c3da401fbd62cc2caa5b96d2 - - -] 10.11.10.1 "
         "\"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2577181",
         utc(2017, 5, 16, 0, 0, 0, 272000)),
        ("nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager "
         "[req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] "
         "VM Started (Lifecycle Event)", utc(2017, 5, 16, 0, 0, 4, 500000)),
    ],
    "Thunderbird": [
        ("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
         1131566461.0),
        ("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session opened for user "
         "root by (uid=0)", 1131566461.0),
        ("- 1131566462 2005.11.09 dn261 Nov 9 12:01:02 dn261/dn261 crond[2907]: (root) CMD (run-parts /etc/cron.hourly)",
         1131566462.0),
    ],
    "Windows": [
        ("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505 with Core: "
         "C:\\Windows\\winsxs\\cbscore.dll", utc(2016, 9, 28, 4, 30, 30)),
        ("2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27:20:30:31.455 WcpInitialize "
         "(wcp.dll version 0.0.0.6) called (stack @0x7fed806eb5d @0x7fefa1c8728)", utc(2016, 9, 28, 4, 30, 31)),
        ("2016-09-28 04:30:31, Info                  CBS    Ending TrustedInstaller initialization.",
         utc(2016, 9, 28, 4, 30, 31)),
    ],
}


def shared_sample(system: str) -> Path:
    return LOGHUB / system / f"{system}_2k.log"


def load(path: Path, **params: Any) -> Any:
    return get_registry().get("dataset", "logs.loghub").create({"path": str(path), **params}).load()[0]


def stamps_in_file_order(subset: Any) -> np.ndarray:
    sessions = sorted([*subset.train.samples, *subset.test.samples], key=lambda s: int(s.meta["line_numbers"][0]))
    return np.concatenate([s.timestamps for s in sessions])


def test_every_shipped_format_has_a_sample_here_or_in_shared() -> None:
    unchecked = [n for n in LOG_FORMATS if n not in SAMPLES and not shared_sample(n).is_file()]
    if unchecked and not LOGHUB.is_dir():
        pytest.skip(f"loghub samples not found under {LOGHUB} (set OMNIAD_SHARED_DATA)")
    assert not unchecked, f"add sample lines of {unchecked} to SAMPLES: every shipped format must yield timestamps"


@pytest.mark.parametrize("system", sorted(LOG_FORMATS))
def test_every_shipped_loghub_format_yields_timestamps(system: str, tmp_path: Path) -> None:
    if system in SAMPLES:
        log = tmp_path / f"{system}_2k.log"
        log.write_text("\n".join(line for line, _ in SAMPLES[system]) + "\n", encoding="utf-8")
        expected = np.array([t for _, t in SAMPLES[system]])
    elif shared_sample(system).is_file():
        log, expected = shared_sample(system), None
    else:
        pytest.skip(f"loghub {system} sample not found at {shared_sample(system)} (set OMNIAD_SHARED_DATA)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subset = load(log, window_size=1)
    counts = subset.meta["counts"]
    assert counts["lines_unmatched_header"] == 0
    assert counts["lines_without_timestamp"] == 0 and counts.get("lines_time_unreadable", 0) == 0
    assert not time_warnings(caught)
    stamps = stamps_in_file_order(subset)
    assert np.isfinite(stamps).all()
    if expected is not None:
        np.testing.assert_allclose(stamps, expected, rtol=0, atol=1e-6)


def test_year_less_layouts_land_in_1900_without_relying_on_strptime_defaults() -> None:
    """Python 3.13 warns on year-less strptime and 3.15 changes it: the year is given explicitly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DeprecationWarning here would be an exception in the loaders
        assert line_timestamp({"Date": "03-17", "Time": "16:13:38.811"}) == utc(1900, 3, 17, 16, 13, 38, 811000)
        assert line_timestamp({"Month": "Jun", "Date": "14", "Time": "15:16:01"}) == utc(1900, 6, 14, 15, 16, 1)
        assert line_timestamp({"Date": "Dec", "Day": "10", "Time": "06:55:46"}) == utc(1900, 12, 10, 6, 55, 46)
        assert line_timestamp({"Time": "10.30 16:49:06"}) == utc(1900, 10, 30, 16, 49, 6)
        assert line_timestamp({"Time": "20171223-22:15:29:606"}) == utc(2017, 12, 23, 22, 15, 29, 606000)
        assert np.isnan(line_timestamp({"Month": "Feb", "Date": "29", "Time": "10:00:00"}))  # 1900 has no 29 Feb


UNREADABLE = "<Date> <Time> <Level>: <Content>"


def write_unreadable(path: Path, n: int = 30) -> Path:
    """A log whose Date field is day.month.year: a layout line_timestamp does not read."""
    path.write_text("".join(f"17.03.2024 16:13:{s:02d} INFO: job {s % 4} done in {s * 7} ms\n" for s in range(n)))
    return path


def time_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "time fields" in str(w.message)]


@pytest.mark.parametrize("split", ["chronological", "all"])
def test_a_format_whose_times_do_not_read_warns_once_with_an_example(tmp_path: Path, split: str) -> None:
    log = write_unreadable(tmp_path / "app.log")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subset = load(log, log_format=UNREADABLE, window_size=10, split=split)
    said = time_warnings(caught)
    assert len(said) == 1, said
    assert "30 of 30 lines have header time fields that could not be read" in said[0]
    assert "Date='17.03.2024' Time='16:13:00'" in said[0] and "window_unit" not in said[0]
    assert subset.meta["counts"]["lines_time_unreadable"] == 30
    assert subset.meta["counts"]["lines_without_timestamp"] == 30


@pytest.mark.parametrize("split", ["chronological", "all"])
def test_time_windows_on_unreadable_times_say_what_is_wrong(tmp_path: Path, split: str) -> None:
    log = write_unreadable(tmp_path / "app.log")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError) as info:
            load(log, log_format=UNREADABLE, window_size=10, window_unit="seconds", split=split)
    text = str(info.value)
    assert "time fields are there but could not be read as times (e.g. Date='17.03.2024' Time='16:13:00')" in text
    assert "a log format with a Date/Time field" not in text  # the format has them: that advice was wrong
    assert "log_format" in text and "window_unit='lines'" in text


def test_one_bad_day_is_counted_and_a_format_without_time_fields_is_not_warned(tmp_path: Path) -> None:
    linux = tmp_path / "Linux_2k.log"
    days = ["Feb 28 23:59:58", "Feb 29 00:00:01", "Mar  1 00:00:02", "Mar  1 00:00:03"]
    linux.write_text("".join(f"{d} combo sshd(pam_unix)[{19937 + i}]: session opened for user root\n"
                             for i, d in enumerate(days)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subset = load(linux, window_size=1)
    assert subset.meta["counts"]["lines_time_unreadable"] == 1
    (said,) = time_warnings(caught)
    assert "1 of 4 lines" in said and "Month='Feb' Date='29' Time='00:00:01'" in said
    plain = tmp_path / "plain.log"
    plain.write_text("".join(f"INFO: job {i} done\n" for i in range(10)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subset = load(plain, log_format="<Level>: <Content>", window_size=5)
    assert not time_warnings(caught) and subset.meta["counts"]["lines_time_unreadable"] == 0
