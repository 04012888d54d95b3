"""End to end in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) against a
real stack: the API and pages (uvicorn), Redis, a Celery worker process, SQLite and an SMTP server.

A new athlete signs up, fills the profile, sets the alert tier, uploads a real ride through the page, waits
for the session and its charts, weighs in, presses "I cramped", follows the email's link, plans a session,
creates and revokes a token, and signs out. Screenshots of the main pages go to .artifacts/screenshots/.
Every wait is on state, with a generous ceiling; never a fixed sleep.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from conftest import isolated_env, migrated_database
from core.settings import reset_settings_cache
from support.services import REPO, SAMPLES, ApiServer, Sink, celery_worker, smtp_server

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
RIDE = SAMPLES / "bike_garmin-edge530_power_temp_2h50.fit"
SHOTS = REPO / ".artifacts" / "screenshots"
CEILING_S = 300  # generous: a slow machine waits longer, a fast one moves on at once

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or not Path(DRIVER).exists(), reason="no chromium"),
    pytest.mark.skipif(not RIDE.exists(), reason="../shared/fit-samples is not there"),
]


class Site:
    def __init__(self, url: str, sink: Sink) -> None:
        self.url, self.sink = url, sink


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("browser-stack")
    redis.Redis.from_url(redis_url).flushall()
    with (
        pytest.MonkeyPatch.context() as mp,
        migrated_database("sqlite", tmp) as db_url,
        smtp_server() as (smtp_url, sink),
        isolated_env(mp, tmp, database_url=db_url, broker_url=redis_url, smtp_url=smtp_url),
    ):
        api = ApiServer()
        mp.setenv("SWEATSYNC_PUBLIC_BASE_URL", api.url)  # the links in emails point at this server
        reset_settings_cache()
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        with celery_worker(env, concurrency=2, log=tmp / "worker.log"), api:
            yield Site(api.url, sink)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1000", "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, CEILING_S, poll_frequency=0.25).until(condition, f"waited for {what}")


def shot(driver: WebDriver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def fill(driver: WebDriver, **fields: str) -> None:
    for field_id, value in fields.items():
        box = driver.find_element(By.ID, field_id)
        box.clear()
        box.send_keys(value)


def select(driver: WebDriver, field_id: str, value: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{field_id} option[value='{value}']").click()


def no_error_page(driver: WebDriver) -> None:
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Traceback" not in body and not body.lstrip().startswith("{"), body[:500]


@pytest.mark.timeout(1200)
def test_a_new_athlete_uses_every_page_from_sign_up_to_sign_out(site: Site, browser: WebDriver) -> None:
    b = browser
    b.get(site.url + "/")
    shot(b, "01-landing")
    b.find_element(By.LINK_TEXT, "Create an account").click()
    fill(b, email="rider@example.com", display_name="Rider", password="a long passphrase")
    b.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(b, lambda d: "/profile" in d.current_url, "the profile after sign-up")

    # The profile: body data that makes the hot ride a high-risk one, and moderate alerts.
    fill(b, **{"f-mass_kg": "84", "f-height_m": "1.80", "f-birth_year": "1982", "f-hr_max": "186",
               "f-hr_rest": "55", "f-lthr": "165", "f-ftp_w": "230"})  # fmt: skip
    select(b, "f-sex", "m")
    select(b, "f-cramp_history", "recent")
    b.find_element(By.CSS_SELECTOR, "#profile button[type=submit]").click()
    wait_for(b, lambda d: "saved=profile" in d.current_url, "the profile to be saved")
    select(b, "alert_min_tier", "moderate")
    b.find_element(By.ID, "btn-preferences").click()
    wait_for(b, lambda d: "saved=preferences" in d.current_url, "the alert tier to be saved")
    assert b.find_element(By.CSS_SELECTOR, "#alert_min_tier option[value=moderate]").is_selected()

    # Upload a real ride through the page (the script sends it with its own progress bar).
    b.get(site.url + "/upload")
    b.find_element(By.ID, "file").send_keys(str(RIDE))
    b.find_element(By.ID, "upload-submit").click()
    done = wait_for(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#progress li[data-state]"), "the upload")
    item = done[0]
    assert item.get_attribute("data-state") == "ok", item.text
    shot(b, "02-upload")

    # The session list refreshes itself until the ride is analysed.
    b.get(site.url + "/sessions")
    link = wait_for(b, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.session-row a"), "the analysed session")
    shot(b, "03-sessions")
    link[0].click()
    wait_for(b, lambda d: d.find_elements(By.ID, "chart-sweat"), "the session page's charts")
    for chart in ("chart-heart_rate", "chart-power", "chart-speed_kmh", "chart-temperature_c", "chart-sweat"):
        assert b.find_element(By.ID, chart).tag_name == "svg"
    no_error_page(b)
    session_url = b.current_url
    shot(b, "04-session")
    b.set_window_size(375, 900)
    shot(b, "04-session-375px")
    width = b.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the session page is {width}px wide at a 375px window"
    b.set_window_size(1280, 1000)

    # Weigh in, then "I cramped".
    fill(b, pre_kg="84.6", post_kg="82.9", wi_fluid_l="1.2", urine_l="0")
    b.find_element(By.ID, "btn-weigh-in").click()
    wait_for(b, lambda d: "updated=weigh-in" in d.current_url, "the weigh-in to be saved")
    assert b.find_element(By.ID, "pre_kg").get_attribute("value") == "84.6"
    b.find_element(By.ID, "btn-cramped").click()
    answered = wait_for(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#cramp [role=status]"), "the answer")
    assert "I cramped" in answered[0].text

    # The sample ride the package makes (recent, so it is emailed), and the email's link to it.
    b.get(site.url + "/upload")
    b.find_element(By.ID, "btn-demo").click()
    wait_for(b, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.session-row a")) == 2, "the sample ride")
    emails = site.sink.wait_for(1, timeout_s=CEILING_S)
    assert emails, "no email arrived"
    text = emails[0].get_body(preferencelist=("plain",)).get_content()
    session_link = re.search(rf"{re.escape(site.url)}/sessions/[0-9a-f-]+", text)
    assert session_link, text
    b.get(session_link.group(0))
    wait_for(b, lambda d: d.find_elements(By.ID, "chart-sweat"), "the session from the email's link")
    assert "sweatsync-demo-ride.gpx" in b.page_source

    # Plan a session.
    b.get(site.url + "/plan")
    fill(b, duration_min="180", power_w="210", temp_c="30", humidity_pct="55")
    b.find_element(By.ID, "btn-plan").click()
    result = wait_for(b, lambda d: d.find_elements(By.ID, "plan-result"), "the plan")[0]
    assert "Drinking plan" in result.text and "Calibrated with 1 weigh-in" in result.text
    shot(b, "05-plan")
    b.get(site.url + "/trends")
    wait_for(b, lambda d: d.find_elements(By.ID, "chart-sweat-temp"), "the trends chart")
    shot(b, "06-trends")

    # Create a token, use it, revoke it: 401 at once.
    b.get(site.url + "/profile")
    fill(b, **{"token-name": "browser test", "token-expiry": "30"})
    b.find_element(By.ID, "btn-new-token").click()
    token = wait_for(b, lambda d: d.find_elements(By.ID, "new-token"), "the new token")[0].text
    shot(b, "07-profile")
    api = httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert api.get("/v1/sessions").status_code == 200
    b.find_element(By.CSS_SELECTOR, "tr[data-token='browser test'] button").click()
    wait_for(b, lambda d: "saved=revoked" in d.current_url, "the revocation")
    assert api.get("/v1/sessions").status_code == 401

    # Sign out: the pages ask for sign-in again, and come back to the page after it.
    b.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    wait_for(b, lambda d: "/signin" in d.current_url, "the sign-in page after sign-out")
    b.get(session_url)
    wait_for(b, lambda d: "/signin?next=" in d.current_url, "sign-in before a private page")
    fill(b, email="rider@example.com", password="a long passphrase")
    b.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for(b, lambda d: d.current_url.split("?")[0] == session_url.split("?")[0], "the page asked for")
    b.get(site.url + "/docs")
    wait_for(b, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"), "the API docs, offline")
    shot(b, "08-docs")

