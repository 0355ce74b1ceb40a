def test_coder_codes_a_passage_through_the_api(team, api):
    text = team.interview.text
    start = text.index("🌲")
    end = text.index("لا تخف") + len("لا تخف")
    response = api.as_user(team.coder).post(
        f"/api/projects/{team.project.pk}/codings/",
        {"interview": team.interview.pk, "code": team.code.pk, "start": start, "end": end},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["quote"] == text[start:end]
