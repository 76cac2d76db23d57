// The dashboard's last hour of queries per second and cache hit ratio.
#include "resolver/server/traffic_series.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

TEST(TrafficSeries, RatesAreComputedBetweenSamplesAndUpToNow) {
  TrafficSeries series;
  series.sample(1'000'000, {0, 0});
  series.sample(1'010'000, {1000, 250});  // 100 q/s, a quarter from the cache
  series.sample(1'020'000, {1000, 250});  // nothing
  nlohmann::json json = series.to_json(1'025'000, {1500, 750});
  EXPECT_EQ(json["interval"], TrafficSeries::kIntervalSeconds);
  ASSERT_EQ(json["points"].size(), 3u);
  EXPECT_DOUBLE_EQ(json["points"][0]["qps"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(json["points"][0]["hit_ratio"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(json["points"][0]["time"].get<double>(), 1010.0);
  EXPECT_DOUBLE_EQ(json["points"][1]["qps"].get<double>(), 0.0);
  EXPECT_TRUE(json["points"][1]["hit_ratio"].is_null()) << "no answers: no ratio";
  // The live interval, from the last sample to now: 500 answers in 5 s, all hits.
  EXPECT_DOUBLE_EQ(json["points"][2]["qps"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(json["points"][2]["hit_ratio"].get<double>(), 1.0);
  EXPECT_EQ(json["answers"], 1500);
}

TEST(TrafficSeries, KeepsOnlyTheLastHour) {
  TrafficSeries series;
  for (int i = 0; i < 1000; ++i)
    series.sample(int64_t{i} * 10'000, {uint64_t(i) * 10, 0});
  nlohmann::json json = series.to_json(999 * 10'000, {9990, 0});
  // 361 samples kept: 360 intervals, and no live point at the last sample's time.
  ASSERT_EQ(json["points"].size(), TrafficSeries::kPoints);
  EXPECT_DOUBLE_EQ(json["points"][0]["time"].get<double>(), (999 - 359) * 10.0);
  EXPECT_DOUBLE_EQ(json["points"][0]["qps"].get<double>(), 1.0);
}

TEST(TrafficSeries, BeforeTheFirstSampleThereIsNothingToShow) {
  TrafficSeries series;
  EXPECT_TRUE(series.to_json(5000, {10, 5})["points"].empty());
}

}  // namespace
}  // namespace rsv
