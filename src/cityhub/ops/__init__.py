"""Operations and maintenance (运维管理服务系统, guideline 4.1.1 b4, 5.3.2, 6.3): monitored
systems and their probes, availability and SLA, incidents, emergency plans, construction
projects, platform metrics."""
