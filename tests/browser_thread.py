"""Playwright in a thread of its own, driven from the test thread.

Playwright's sync API leaves an asyncio event loop running in the thread that started it. The
test thread must not have one: Django refuses ORM calls there ("async context") and async_to_sync
refuses to run (the console's push receiver uses it). So the browser lives in its own thread and
every call is handed over to it; `Remote` makes that invisible to the tests, which read as plain
Playwright: page.goto(...), expect(page.get_by_role(...)).to_be_visible().
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from playwright.sync_api import expect as playwright_expect
from playwright.sync_api import sync_playwright

CALL_TIMEOUT_SECONDS = 60
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Future]


class BrowserThread:
    def __init__(self, *, executable_path: str) -> None:
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        ready: Future = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(executable_path, ready), daemon=True, name="playwright"
        )
        self._thread.start()
        self._browser = ready.result(timeout=CALL_TIMEOUT_SECONDS)

    def _serve(self, executable_path: str, ready: Future) -> None:
        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=executable_path, headless=True, args=LAUNCH_ARGS)
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(browser)
        while (job := self._jobs.get()) is not None:
            function, args, kwargs, result = job
            try:
                result.set_result(function(*args, **kwargs))
            except BaseException as exc:
                result.set_exception(exc)
        browser.close()
        playwright.stop()

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result: Future = Future()
        self._jobs.put((function, args, kwargs, result))
        return result.result(timeout=CALL_TIMEOUT_SECONDS)

    def wrap(self, value: Any) -> Any:
        return Remote(self, value) if type(value).__module__.startswith("playwright.") else value

    def new_page(self, **context_options: Any) -> "Remote":
        """A page in a fresh browser context (its own cookies); close it with page.context.close()."""
        context = self.call(self._browser.new_context, **context_options)
        page = self.call(context.new_page)
        self.call(page.set_default_timeout, 10_000)
        return Remote(self, page)

    def expect(self, remote: "Remote", message: str | None = None) -> "Remote":
        return Remote(self, self.call(playwright_expect, unwrap(remote), message))

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=CALL_TIMEOUT_SECONDS)


def unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_target") if isinstance(value, Remote) else value


class Remote:
    """A Playwright object living in the browser thread; attribute reads and calls run there."""

    def __init__(self, driver: BrowserThread, target: Any) -> None:
        object.__setattr__(self, "_driver", driver)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        driver: BrowserThread = object.__getattribute__(self, "_driver")
        attribute = driver.call(getattr, object.__getattribute__(self, "_target"), name)
        if not callable(attribute) or type(attribute).__module__.startswith("playwright."):
            return driver.wrap(attribute)

        def call(*args: Any, **kwargs: Any) -> Any:
            plain_args = [unwrap(arg) for arg in args]
            plain_kwargs = {key: unwrap(value) for key, value in kwargs.items()}
            return driver.wrap(driver.call(attribute, *plain_args, **plain_kwargs))

        return call

    def __repr__(self) -> str:
        return f"Remote({object.__getattribute__(self, '_target')!r})"
