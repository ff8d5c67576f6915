"""Every requirement holds at least one piece of feedback as its evidence, whichever edge created it."""

from needpool.requirements.models import Feedback, Requirement


def test_api_create_with_a_title_only_records_the_words_as_evidence(api, users):
    client = api(users["product_manager"])
    response = client.post("/api/v1/requirements/", {"title": "希望支持暗色模式"}, format="json")
    assert response.status_code == 201, response.json()
    requirement = Requirement.objects.get(pk=response.json()["id"])
    evidence = list(Feedback.objects.filter(requirement=requirement))
    assert [f.raw_text for f in evidence] == ["希望支持暗色模式"]
    assert evidence[0].created_by == users["product_manager"]


def test_api_create_for_a_customer_records_that_customers_words(api, users, customer):
    client = api(users["product_manager"])
    body = {"title": "批量订单折扣", "customer": customer.pk, "feedback_text": "希望按客户等级设置批量折扣"}
    response = client.post("/api/v1/requirements/", body, format="json")
    assert response.status_code == 201, response.json()
    evidence = Feedback.objects.get(requirement_id=response.json()["id"])
    assert (evidence.customer, evidence.raw_text) == (customer, "希望按客户等级设置批量折扣")
    assert response.json()["customers"] and response.json()["customers"][0]["code"] == customer.code


def test_a_blank_title_writes_nothing(api, users):
    client = api(users["product_manager"])
    response = client.post("/api/v1/requirements/", {"title": "   "}, format="json")
    assert response.status_code == 400
    assert not Requirement.objects.exists() and not Feedback.objects.exists()
