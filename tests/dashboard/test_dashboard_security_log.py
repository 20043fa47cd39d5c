"""Settings → Security log (admins) and Settings → Account's recent sign-ins, through the test client."""

from __future__ import annotations

from tests.conftest import PASSWORD, bearer
from tests.dashboard.test_dashboard_pages import field, log_in, page

LOG_PAGE = "/dashboard/settings/security-log"


def test_admins_see_their_tenants_events_with_filters(client, make_user, login, make_key):
    root = make_user("root", role="admin")
    maria = make_user("maria", role="member")
    make_key(bearer(login(maria)["access_token"]), name="marias key")
    make_user("eve", role="admin", tenant="globex")
    make_key(bearer(login(make_user("globex-admin", role="admin", tenant="globex"))["access_token"]), name="globex key")
    assert log_in(client, root).status_code == 303

    html = page(client.get(LOG_PAGE))
    assert "api_key.created" in html and "marias key" in html and "auth.login_succeeded" in html
    assert "globex key" not in html  # another tenant's events never show
    assert 'aria-current="page">Security log<' in html

    only_keys = page(client.get(LOG_PAGE, query_string={"action": "api_key.created"}))
    assert "marias key" in only_keys and "auth.login_succeeded" not in only_keys.split("security-events")[1]
    only_root = page(client.get(LOG_PAGE, query_string={"actor": root.user_id}))
    assert "marias key" not in only_root and "root" in only_root
    future = page(client.get(LOG_PAGE, query_string={"from": "2999-01-01"}))
    assert "No events match these filters." in future


def test_the_log_pages_through_older_events(client, make_user, login, make_key):
    root = make_user("root", role="admin")
    headers = bearer(login(root)["access_token"])
    for n in range(30):
        make_key(headers, name=f"key-{n:02d}")
    assert log_in(client, root).status_code == 303
    first = page(client.get(LOG_PAGE, query_string={"action": "api_key.created"}))
    assert "key-29" in first and "key-05" in first and "key-04" not in first
    pager = first.split('class="pager pager-below"')[1].split("</nav>")[0]
    older = pager.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    second = page(client.get(older))
    assert "key-04" in second and "key-00" in second and "key-05" not in second
    assert "Older events" not in second and "Newest events" in second


def test_members_cannot_open_the_security_log(client, make_user):
    assert log_in(client, make_user("maria", role="member")).status_code == 303
    assert "users:manage" in page(client.get(LOG_PAGE), 403)
    assert "Security log" not in page(client.get("/dashboard/settings"))


def test_a_forged_cursor_is_refused_with_a_page(client, make_user):
    assert log_in(client, make_user("root", role="admin")).status_code == 303
    assert "cursor" in page(client.get(LOG_PAGE, query_string={"cursor": "forged.cursor"}), 400)


def test_your_recent_sign_ins_show_on_your_account_page(client, make_user):
    maria = make_user("maria", role="member")
    client.post(
        "/api/v1/auth/login",
        json={"username": "maria", "password": PASSWORD},
        headers={"User-Agent": "curl/8.5.0"},
    )
    assert log_in(client, maria).status_code == 303
    html = page(client.get("/dashboard/settings"))
    table = html.split('id="recent-sign-ins"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # the header, the dashboard login, the API login
    assert "curl/8.5.0" in table and "Dashboard" in table and "API" in table
    assert field(html, "csrf_token")
