from flask.testing import FlaskClient

from tests.conftest import DEMO_USERS, Auth


def test_demo_commissioner_sees_register(demo: object, client: FlaskClient, auth: Auth) -> None:
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302
    page = client.get("/contracts")
    assert page.status_code == 200
    assert "LBBD-DV-002" in page.get_data(as_text=True)
