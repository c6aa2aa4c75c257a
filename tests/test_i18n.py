from __future__ import annotations

from django.urls import reverse


def test_welsh_switch_translates_the_page_and_comes_back(db, client):
    page = client.get(reverse("accounts:signin"))
    assert 'lang="en' in page.text
    switch = client.get(reverse("set_language", args=["cy"]), {"next": "/sign-in/"})
    assert switch.status_code == 302 and switch["Location"] == "/sign-in/"
    page = client.get(reverse("accounts:signin"))
    assert '<html lang="cy"' in page.text
    assert "Mewngofnodi i civicloop" in page.text
    assert "Neidio i&#x27;r prif gynnwys" in page.text or "Neidio i'r prif gynnwys" in page.text
    client.get(reverse("set_language", args=["en"]))
    assert "Sign in to civicloop" in client.get(reverse("accounts:signin")).text


def test_language_switch_refuses_open_redirects(db, client):
    response = client.get(reverse("set_language", args=["cy"]), {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    response = client.get(reverse("set_language", args=["cy"]), {"next": "//evil.example/"})
    assert response["Location"] == "/"


def test_unknown_language_changes_nothing(db, client):
    client.get(reverse("set_language", args=["xx"]))
    assert "Sign in to civicloop" in client.get(reverse("accounts:signin")).text


def test_public_page_in_welsh(alpha, client):
    client.get(reverse("set_language", args=["cy"]))
    page = client.get(reverse("accounts:public_organisation", args=["alpha"]))
    assert "Dweud eich dweud wrth Alpha Council" in page.text


def test_answering_a_consultation_in_welsh(consultation, client):
    client.get(reverse("set_language", args=["cy"]))
    base = f"/o/alpha/consultations/{consultation.code}/"
    page = client.get(base)
    assert "Dechrau nawr" in page.text and "Preifatrwydd" in page.text
    section = client.get(base + "start/", follow=True)
    assert "Parhau" in section.text and "Cadw a dod yn ôl yn nes ymlaen" in section.text
