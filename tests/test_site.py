"""The course as a static site (install/site), opened in headless Chromium with the network
blocked, as a learner opens the folder: every page loads with nothing failed or fetched from
outside, no console error, every image drawn, code highlighted and formulas typeset."""

import re
import tempfile

from bs4 import BeautifulSoup

from course import NOTEBOOKS, browser, course_site

SCREENSHOTS = tempfile.mkdtemp(prefix="ferrolab-site-screens-")


def test_index_lists_every_lesson_with_what_it_teaches_and_its_run_time():
    index = BeautifulSoup((course_site() / "index.html").read_text(), "html.parser")
    lessons = index.select("ol.course-lessons > li")
    assert [li.a["href"] for li in lessons] == [nb.stem + ".html" for nb in NOTEBOOKS]
    for li in lessons:
        assert li.a.get_text().strip() and len(li.p.get_text()) > 40, li
        assert re.fullmatch(r"(\d+ min )?\d+ s", li.select_one(".run-time").get_text()), li
    # Each page links its neighbours and lists its sections, and the executed notebook is beside it.
    second = BeautifulSoup((course_site() / lessons[1].a["href"]).read_text(), "html.parser")
    assert second.select_one("a[rel=prev]")["href"] == lessons[0].a["href"]
    assert second.select_one("a[rel=next]")["href"] == lessons[2].a["href"]
    toc = second.select(".course-toc a")
    assert len(toc) >= 3 and all(second.find(id=a["href"][1:]) for a in toc)
    assert (course_site() / NOTEBOOKS[1].name).exists()


def test_every_page_works_offline_in_chromium():
    site = course_site()
    pages = ["index.html"] + [nb.stem + ".html" for nb in NOTEBOOKS]
    problems = []
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        outside = []

        def only_the_site(route):
            if route.request.url.startswith(site.as_uri()):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_site)
        page = context.new_page()
        page.on("requestfailed", lambda request: problems.append(f"{request.url}: {request.failure}"))
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        for name in pages:
            page.goto((site / name).as_uri())
            page.wait_for_load_state("networkidle")
            if name.startswith("10-"):  # attention's formula, typeset by MathJax from the site's folder
                formula = page.wait_for_selector("mjx-container svg", timeout=30_000)
                assert formula.bounding_box()["width"] > 100
            page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
            undrawn = page.evaluate("""[...document.images]
                .filter(img => !(img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0))
                .map(img => img.src.slice(0, 60))""")
            assert not undrawn, (name, undrawn)
            too_wide = page.evaluate("""[...document.querySelectorAll('.jp-OutputArea-output img')]
                .filter(img => img.getBoundingClientRect().right > img.closest('.jp-OutputArea-output').getBoundingClientRect().right + 1)
                .length""")
            assert too_wide == 0, name
            if name != "index.html":
                assert page.locator(".jp-InputArea .highlight .k").count() > 0, f"{name}: no highlighted keywords"
        print(f"screenshots: {SCREENSHOTS}")
        assert not outside, outside
        assert not problems, problems
