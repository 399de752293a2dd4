import csv
from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from blog.insights import charts, figures, pageviews
from blog.insights.figures import Table
from blog.models import Post
from blog.shared.spreadsheets import safe_row
from blog.views.desk import author_required


def _period(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", figures.DEFAULT_PERIOD))
    except ValueError:
        return figures.DEFAULT_PERIOD
    return days if days in figures.PERIODS else figures.DEFAULT_PERIOD


def _csv(table: Table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{table.name}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.headers)
    writer.writerows(safe_row(row) for row in table.rows)  # sources come from visitors' links
    return response


def _chosen_csv(request: HttpRequest, tables: dict[str, Table], filename: str) -> HttpResponse | None:
    name = request.GET.get("csv")
    if name is None:
        return None
    table = next((table for table in tables.values() if table.name == name), None)
    if table is None:
        raise Http404("No such table.")
    return _csv(table, filename)


def _days(table: Table) -> list[date]:
    return [date.fromisoformat(day) for day in table.column(0)]


@author_required
def overview(request: HttpRequest) -> HttpResponse:
    days = _period(request)
    tables = figures.overview(request.user, days)
    if response := _chosen_csv(request, tables, f"insights-{days}-days"):
        return response
    daily, subscribers = tables["daily"], tables["subscribers"]
    context = {
        "days": days,
        "counting": pageviews.counting(),
        "periods": figures.PERIODS,
        "tables": tables,
        "views_chart": charts.line_chart(
            daily.caption, _days(daily), [("Views", daily.column(1)), ("Unique visitors", daily.column(2))]
        ),
        "subscribers_chart": charts.line_chart(
            subscribers.caption, _days(subscribers), [("Subscribers", subscribers.column(1))]
        ),
        "changes_chart": charts.line_chart(
            "New and lost subscribers per day",
            _days(subscribers),
            [(heading, subscribers.column(index)) for index, heading in enumerate(subscribers.headers[2:], start=2)],
        ),
        "referrers_chart": charts.bar_chart(tables["referrers"].caption, tables["referrers"].rows),
        "totals": {"views": sum(daily.column(1)), "visitors": sum(daily.column(2))},
    }
    return render(request, "blog/insights/overview.html", context)


@author_required
def post_insights(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user).select_related("author", "send"), pk=pk)
    tables = figures.post_figures(post)
    if response := _chosen_csv(request, tables, f"post-{post.pk}"):
        return response
    daily = tables["daily"]
    context = {
        "post": post,
        "tables": tables,
        "views_chart": charts.line_chart(
            daily.caption, _days(daily), [("Views", daily.column(1)), ("Unique visitors", daily.column(2))]
        ),
        "referrers_chart": charts.bar_chart(tables["referrers"].caption, tables["referrers"].rows[:10]),
    }
    return render(request, "blog/insights/post.html", context)
