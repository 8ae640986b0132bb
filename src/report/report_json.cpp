// The report as docs/report.md's JSON schema.

#include "trunkgate/report/render.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

using json = nlohmann::ordered_json;

std::string time_text(std::int64_t time) {
    return iso8601(time, 0);
}

template <typename T> json or_null(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

json time_or_null(const std::optional<std::int64_t>& time) {
    return time ? json(time_text(*time)) : json(nullptr);
}

json distribution_json(const distribution& values) {
    return {{"count", values.count},
            {"median", or_null(values.median)},
            {"p90", or_null(values.p90)},
            {"p95", or_null(values.p95)}};
}

json ranges_json(const std::vector<range_count>& ranges) {
    auto list = json::array();
    for (const auto& range : ranges)
        list.push_back({{"label", range.label},
                        {"low", range.low},
                        {"high", or_null(range.high)},
                        {"count", range.count}});
    return list;
}

json counts_json(const std::vector<period_count>& counts, const char* key) {
    auto list = json::array();
    for (const auto& count : counts)
        list.push_back({{key, iso_date(count.start)}, {"count", count.count}});
    return list;
}

json integration_json(const integration_figures& figures) {
    auto pushers = json::array();
    for (const auto& pusher : figures.pushers)
        pushers.push_back({{"identity", pusher.identity},
                           {"landings", pusher.landings},
                           {"days_landed", pusher.days_landed},
                           {"share_of_days", pusher.share_of_days}});
    return {{"trunk", figures.trunk_ref},
            {"landings", figures.landings},
            {"direct", figures.direct},
            {"queued", figures.queued},
            {"active_pushers", figures.active_pushers},
            {"active_days", figures.active_days},
            {"per_day", figures.per_day},
            {"per_pusher_per_day", figures.per_pusher_per_day},
            {"size", distribution_json(figures.size)},
            {"days", counts_json(figures.days, "date")},
            {"pushers", std::move(pushers)}};
}

json branches_json(const branch_figures& figures) {
    auto live = json::array();
    for (const auto& branch : figures.live)
        live.push_back(
            {{"ref", branch.ref},
             {"oldest_commit_time", time_or_null(branch.oldest_time)},
             {"age_seconds", branch.age_seconds},
             {"behind", branch.behind},
             {"ahead", branch.ahead},
             {"last_push", time_or_null(branch.last_push_time)},
             {"last_pusher", branch.last_push_time ? json(branch.last_pusher) : json(nullptr)},
             {"over_limits", branch.over_limits}});
    auto ended = json::array();
    for (const auto& branch : figures.ended)
        ended.push_back({{"ref", branch.ref},
                         {"created", time_text(branch.created)},
                         {"ended", time_text(branch.ended)},
                         {"how", branch.how},
                         {"lifetime_seconds", branch.ended - branch.created}});
    return {{"live", std::move(live)},
            {"ended", std::move(ended)},
            {"lifetime", distribution_json(figures.lifetime)},
            {"lifetime_ranges", ranges_json(figures.lifetime_ranges)}};
}

json deployment_json(const deployment& made) {
    return {{"time", time_text(made.time)},
            {"identity", made.identity},
            {"old", made.old_hex},
            {"new", made.new_hex},
            {"commits", made.commits},
            {"failed_by", made.failed_by},
            {"restored_after_seconds", or_null(made.restored_after)}};
}

json deploy_ref_json(const deploy_ref_figures& figures) {
    auto list = json::array();
    for (const auto& made : figures.deployments)
        list.push_back(deployment_json(made));
    return {{"ref", figures.ref},
            {"count", figures.deployments.size()},
            {"per_day", figures.per_day},
            {"per_week", figures.per_week},
            {"days", counts_json(figures.days, "date")},
            {"weeks", counts_json(figures.weeks, "week")},
            {"lead_time", distribution_json(figures.lead_time)},
            {"lead_time_ranges", ranges_json(figures.lead_time_ranges)},
            {"failed", figures.failed},
            {"change_failure_rate", or_null(figures.change_failure_rate)},
            {"time_to_restore", distribution_json(figures.time_to_restore)},
            {"unrestored", figures.unrestored},
            {"bands",
             {{"deployment_frequency", or_null(figures.bands.deployment_frequency)},
              {"lead_time", or_null(figures.bands.lead_time)},
              {"change_failure_rate", or_null(figures.bands.change_failure_rate)},
              {"time_to_restore", or_null(figures.bands.time_to_restore)}}},
            {"list", std::move(list)}};
}

json trunk_health_json(const trunk_health_figures& figures) {
    auto red = json::array();
    for (const auto& span : figures.red) {
        auto unmet = json::array();
        for (const auto& check : span.unmet)
            unmet.push_back({{"context", check.context}, {"state", check.state}});
        red.push_back({{"from", time_text(span.from)},
                       {"to", time_text(span.to)},
                       {"commit", span.commit},
                       {"unmet", std::move(unmet)}});
    }
    return {{"required_checks", figures.required_checks},
            {"observed_seconds", figures.observed_seconds},
            {"red_seconds", figures.red_seconds},
            {"red_share", or_null(figures.red_share)},
            {"red", std::move(red)}};
}

json queue_json(const std::optional<queue_figures>& figures) {
    if (!figures)
        return nullptr;
    auto ejections = json::array();
    for (const auto& reason : figures->ejections)
        ejections.push_back({{"reason", reason.reason}, {"count", reason.count}});
    return {{"landed", figures->landed},
            {"ejected", figures->ejected},
            {"cancelled", figures->cancelled},
            {"time_to_land", distribution_json(figures->time_to_land)},
            {"ejections", std::move(ejections)},
            {"builds", figures->builds},
            {"builds_per_landed", or_null(figures->builds_per_landed)}};
}

} // namespace

nlohmann::ordered_json report_json(const report& figures) {
    auto deployments = json::array();
    for (const auto& ref : figures.deployments)
        deployments.push_back(deploy_ref_json(ref));
    auto bypasses = json::array();
    for (const auto& bypass : figures.bypasses)
        bypasses.push_back({{"time", time_text(bypass.time)},
                            {"identity", bypass.identity},
                            {"refs", bypass.refs},
                            {"reason", bypass.reason}});
    auto by_rule = json::array();
    for (const auto& rule : figures.rejections)
        by_rule.push_back({{"rule", rule.rule}, {"pushes", rule.pushes}});
    return {{"schema", 1},
            {"repository", figures.repository},
            {"generated_at", time_text(figures.period.now)},
            {"since", time_text(figures.period.since)},
            {"until", time_text(figures.period.until)},
            {"days", figures.period.days()},
            {"bands_source", dora_bands_source},
            {"integration", integration_json(figures.integration)},
            {"branches", branches_json(figures.branches)},
            {"deployments", std::move(deployments)},
            {"trunk_health", trunk_health_json(figures.trunk_health)},
            {"bypasses", std::move(bypasses)},
            {"rejections", {{"pushes", figures.rejected_pushes}, {"by_rule", std::move(by_rule)}}},
            {"queue", queue_json(figures.queue)},
            {"notes", figures.notes}};
}

} // namespace trunkgate
