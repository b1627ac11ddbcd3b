"""Generate the demo case catalogue: seeds/categories.csv and seeds/categories.xlsx.

    .venv/bin/python seeds/make_categories.py          # rewrites both files

THIS IS A DEMO CATALOGUE, NOT AN OFFICIAL CODE LIST. We have no copy of the official
code tables of GB/T 30428 (数字化城市管理信息系统) or CJ/T 214 (城市市政综合监管信息系统
管理部件和事件分类、编码及数据要求), nor of any city's own list. The categories below
are written *in their shape* — 部件 (component) and 事件 (event) classes, major classes
(大类) such as 市容环境 / 设施管理 / 园林绿化, minor classes (小类) under them, and for
each minor class the filing standards (立案条件) with a handling time limit and a closing
condition (结案条件) — with plausible time limits. The codes (major "01", minor "0101",
standard "0101-1") are ours. A city loads its own catalogue through the same file format
(admin → 案件类别 → 导入, or ``manage.py import_catalog FILE``).

File format (one table; the same columns for CSV and XLSX, header row first; this is
also what ``export_catalog`` writes). One row per major category, minor category or
filing standard; a major is followed by its minors, each minor by its standards:

| column | major (大类) | minor (小类) | standard (立案条件) |
|---|---|---|---|
| type | ``major`` (or 大类) | ``minor`` (or 小类) | ``standard`` (or 立案条件) |
| code | e.g. ``01`` | e.g. ``0101`` | e.g. ``0101-1`` |
| parent_code | empty | the major's code | the minor's code |
| name | name | name | the filing condition text |
| kind | ``component`` (部件) or ``event`` (事件) | same | empty |
| keywords | search words, space-separated | same | empty |
| limit_amount | empty | empty | number > 0, up to 2 decimals |
| limit_unit | empty | empty | ``urgent_hours`` / ``working_hours`` / ``working_days`` / … |
| closing_condition | empty | empty | 结案条件 |
| urgent | empty | empty | ``1`` / ``0`` (empty = 0) |
| sort | integer ≥ 0 (empty = 0) | same | same |
| active | ``1`` / ``0`` (empty = 1) | same | empty |

limit_unit: urgent_hours = 紧急工作时 (a continuous clock), working_hours = 工作时,
working_days = 工作日, calendar_days = 自然日; the Chinese names are accepted too.
Chinese column headers are accepted too (代码, 上级代码, 名称, 部件/事件, 检索词, 处置时限,
时限单位, 结案条件, 紧急, 排序, 启用; 层级 for type). Import is all or nothing and upserts
by code; it never deletes (set ``active`` to 0 to retire a category).

Needs only openpyxl (in requirements.lock). The CSV is byte-stable; the XLSX has the
same content on every run.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
COLUMNS = (
    "type", "code", "parent_code", "name", "kind", "keywords", "limit_amount", "limit_unit",
    "closing_condition", "urgent", "sort", "active",
)

C, E = "component", "event"
UH, WH, WD, CD = "urgent_hours", "working_hours", "working_days", "calendar_days"
URGENT = True

# (major name, kind, keywords, [(minor name, kind, keywords, [standards])]);
# a standard is (condition, amount, unit, closing condition[, urgent]).
CATALOGUE: list[tuple[str, str, str, list[tuple[str, str, str, list[tuple]]]]] = [
    ("市容环境", E, "市容 环境卫生 垃圾", [
        ("暴露垃圾", E, "垃圾 堆放 积存", [
            ("主次干道、广场等公共区域有暴露垃圾", 2, WH, "垃圾清除干净，地面无残留"),
            ("背街小巷、居民区内有暴露垃圾、积存垃圾", 4, WH, "垃圾清除干净，地面无残留"),
        ]),
        ("垃圾满溢", E, "垃圾桶 垃圾箱 满溢 清运", [
            ("垃圾桶（箱）内垃圾满溢、散落地面", 2, WH, "垃圾清运，桶（箱）周边清洁"),
        ]),
        ("道路不洁", E, "保洁 清扫 污渍", [
            ("道路、人行道有明显污渍、油渍、泥土等", 4, WH, "路面清扫冲洗干净"),
        ]),
        ("乱堆物堆料", E, "堆物 堆料 占道", [
            ("在道路、公共场地乱堆物料，影响通行或市容", 2, WD, "堆物清除或移入规定区域"),
            ("建筑垃圾、大件垃圾随意堆放", 3, WD, "清运完毕，场地清洁"),
        ]),
        ("占道经营", E, "摊贩 占道 流动商贩 店外经营", [
            ("流动商贩占道经营", 2, WH, "摊点撤离，恢复道路通行"),
            ("沿街门店店外经营、出店摆卖", 1, WD, "物品收回店内"),
        ]),
        ("乱贴乱画", E, "小广告 涂写 刻画 张贴", [
            ("墙面、设施上张贴小广告或涂写刻画", 2, WD, "清除干净，无明显痕迹"),
        ]),
        ("违规户外广告", E, "广告牌 招牌 牌匾", [
            ("未经审批设置户外广告、招牌", 5, WD, "拆除或补办手续"),
            ("户外广告牌匾破损、松动有坠落危险", 4, UH, "设置警戒并加固或拆除", URGENT),
        ]),
        ("乱晾晒", E, "晾晒 晾衣 沿街晾挂", [
            ("沿街、在公共设施上晾晒衣物", 1, WD, "晾晒物收回"),
        ]),
        ("公厕保洁", C, "公共厕所 公厕 异味", [
            ("公共厕所脏污、有异味", 2, WH, "清洁到位，无异味"),
            ("公共厕所设施损坏或停水停电无法使用", 2, WD, "修复，恢复使用"),
        ]),
        ("动物尸体", E, "死猫 死狗 尸体", [
            ("道路、公共区域有动物尸体", 2, WH, "清除并消毒"),
        ]),
        ("渣土遗撒", E, "渣土 遗撒 撒漏 运输", [
            ("渣土运输车辆遗撒、路面污染", 2, WH, "清理路面，查处责任车辆"),
        ]),
    ]),
    ("设施管理", C, "市政设施 公用设施 损坏", [
        ("井盖", C, "井盖 窨井 下水井 雨水井", [
            ("井盖缺失", 2, UH, "恢复井盖（先行设置警示）", URGENT),
            ("井盖破损", 2, WD, "更换井盖"),
            ("井盖移位、松动、与路面高差明显", 1, WD, "复位或调平"),
        ]),
        ("路灯", C, "路灯 灯杆 倾斜 不亮 灯具", [
            ("路灯灯杆倾斜，有倾倒危险", 4, UH, "设置警戒，扶正加固或拆除", URGENT),
            ("路灯不亮（单灯或连续多灯）", 2, WD, "修复，恢复照明"),
            ("路灯灯具、灯罩破损", 3, WD, "更换灯具"),
        ]),
        ("雨水箅子", C, "雨水箅子 雨水口 排水 堵塞", [
            ("雨水箅子缺失、破损", 2, UH, "恢复或更换", URGENT),
            ("雨水口堵塞，排水不畅", 1, WD, "疏通"),
        ]),
        ("消火栓", C, "消火栓 消防栓 漏水", [
            ("消火栓损坏、漏水", 1, WD, "修复"),
            ("消火栓被圈占、遮挡", 1, WD, "清除遮挡"),
        ]),
        ("道路护栏", C, "护栏 隔离栏 栏杆", [
            ("道路护栏倒伏、断裂", 8, UH, "扶正或更换", URGENT),
            ("道路护栏缺失、锈蚀、松动", 3, WD, "补齐或修复"),
        ]),
        ("路面破损", C, "路面 坑槽 塌陷 破损 人行道", [
            ("路面塌陷", 2, UH, "设置围挡警示并组织抢修", URGENT),
            ("路面坑槽、破损影响通行", 3, WD, "修补平整"),
            ("人行道方砖松动、缺失", 5, WD, "铺装修复"),
        ]),
        ("公交站亭", C, "公交站 候车亭 站牌", [
            ("公交候车亭、站牌破损", 3, WD, "修复或更换"),
        ]),
        ("健身器材", C, "健身器材 体育设施", [
            ("健身器材损坏，存在安全隐患", 1, WD, "设置停用标识并修复或拆除"),
        ]),
        ("休闲座椅", C, "座椅 长椅", [
            ("公共座椅损坏", 5, WD, "修复或更换"),
        ]),
        ("果皮箱", C, "果皮箱 垃圾箱 废物箱", [
            ("果皮箱破损、缺失", 3, WD, "修复或补设"),
        ]),
        ("架空线缆", C, "架空线 飞线 线缆 电线杆", [
            ("架空线缆脱落、下垂影响通行", 4, UH, "设置警戒并挂高或修复", URGENT),
            ("线缆私拉乱接、杂乱", 5, WD, "规整或拆除"),
        ]),
        ("通信交接箱", C, "交接箱 配电箱 电箱", [
            ("交接箱、配电箱箱门缺失或破损", 3, WD, "修复，箱门关闭上锁"),
        ]),
    ]),
    ("园林绿化", C, "绿化 树木 绿地", [
        ("毁绿种菜", E, "毁绿 种菜 开荒 绿地", [
            ("公共绿地被开垦种菜、种植农作物", 5, WD, "清除种植物，恢复绿化"),
        ]),
        ("行道树", C, "行道树 树木 倒伏 断枝", [
            ("树木倒伏、断枝，影响通行或有安全隐患", 2, UH, "清理倒伏树木、断枝", URGENT),
            ("行道树缺株、死株", 20, WD, "补植"),
        ]),
        ("树木修剪", C, "修剪 遮挡 树枝", [
            ("树枝遮挡交通信号灯、路灯或居民窗户", 5, WD, "修剪完毕"),
        ]),
        ("绿地脏乱", E, "绿地 垃圾 杂物", [
            ("绿地内有垃圾、杂物", 4, WH, "清理干净"),
        ]),
        ("绿地占用", E, "绿地 占用 停车 堆物", [
            ("在绿地内停车、堆物", 2, WD, "清除占用，恢复绿地"),
            ("绿地被硬化、圈占", 10, WD, "恢复绿地"),
        ]),
        ("花坛花箱", C, "花坛 花箱 花钵", [
            ("花坛、花箱破损或植物枯死", 5, WD, "修复，补栽"),
        ]),
        ("树木病虫害", C, "病虫害 虫害 杨树 白蛾", [
            ("树木出现明显病虫害", 3, WD, "完成防治"),
        ]),
    ]),
    ("房屋安全", E, "房屋 楼房 安全 违建", [
        ("楼顶杂树", E, "楼顶 杂树 屋顶 树木 防水", [
            ("楼顶、外墙、檐口生长杂树", 10, WD, "清除杂树及根系，修复防水层"),
            ("杂树根系已造成墙体开裂、屋面渗漏", 5, WD, "清除杂树，修复开裂和渗漏部位"),
        ]),
        ("外墙脱落", E, "外墙 墙皮 瓷砖 脱落 坠落", [
            ("外墙皮、瓷砖空鼓脱落，危及行人", 4, UH, "设置警戒，清除松动部分", URGENT),
        ]),
        ("危险房屋", E, "危房 裂缝 倾斜", [
            ("房屋出现明显裂缝、倾斜等危险迹象", 2, UH, "设置警戒，组织鉴定和人员撤离", URGENT),
        ]),
        ("违法建设", E, "违建 私搭乱建 加盖", [
            ("正在进行的私搭乱建", 1, WD, "制止施工，依法查处"),
            ("已建成的违法建设", 20, WD, "依法立案查处或拆除"),
        ]),
        ("屋面漏水", E, "漏水 渗漏 屋顶", [
            ("公共屋面、楼道渗漏", 10, WD, "维修，不再渗漏"),
        ]),
        ("悬挂物坠落隐患", E, "空调外机 防盗窗 花盆 高空", [
            ("空调外机支架、防盗窗锈蚀松动，有坠落危险", 8, UH, "加固或拆除", URGENT),
        ]),
        ("擅自拆改结构", E, "拆改 承重墙 装修", [
            ("装修中擅自拆改承重结构", 1, WD, "制止，恢复原状并依法处理"),
        ]),
    ]),
    ("公共安全", E, "安全 隐患 消防", [
        ("消防通道占用", E, "消防通道 占用 堵塞 停车", [
            ("车辆、杂物堵塞消防通道", 2, WH, "清除占用，通道畅通"),
        ]),
        ("楼道堆物", E, "楼道 堆物 杂物 消防", [
            ("楼道、楼梯间堆放杂物", 3, WD, "清理完毕"),
        ]),
        ("电动车违规充电", E, "电动车 飞线 充电 楼道", [
            ("楼道内停放、充电电动自行车", 1, WD, "移出楼道"),
            ("私拉电线（飞线）为电动车充电", 1, WD, "拆除飞线"),
        ]),
        ("燃气泄漏", E, "燃气 煤气 泄漏 异味", [
            ("闻到燃气异味或发现燃气泄漏", 1, UH, "关阀处置，排除险情", URGENT),
        ]),
        ("施工安全隐患", E, "工地 围挡 施工 坑", [
            ("施工工地围挡缺失、基坑无防护", 4, UH, "补设围挡、防护", URGENT),
        ]),
        ("高空坠物隐患", E, "高空 坠物 广告牌 树枝", [
            ("建（构）筑物附属物松动，有坠落危险", 4, UH, "设置警戒，排除隐患", URGENT),
        ]),
    ]),
    ("交通秩序", E, "交通 停车 道路", [
        ("机动车乱停放", E, "乱停车 违停 停车", [
            ("机动车占用人行道、盲道停放", 2, WH, "车辆驶离或依法处理"),
        ]),
        ("非机动车乱停放", E, "共享单车 自行车 乱停", [
            ("共享单车、非机动车乱停乱放影响通行", 2, WH, "规整或清运"),
        ]),
        ("废弃车辆", E, "僵尸车 废弃车 长期停放", [
            ("道路上长期停放的废弃机动车（僵尸车）", 10, WD, "清拖或车主移走"),
        ]),
        ("交通信号灯", C, "信号灯 红绿灯 故障", [
            ("交通信号灯不亮或故障", 2, UH, "修复或安排人工指挥", URGENT),
        ]),
        ("交通标志", C, "标志牌 指路牌 标线", [
            ("交通标志牌倾斜、损坏", 3, WD, "扶正或更换"),
            ("道路标线模糊不清", 20, WD, "重新施划"),
        ]),
        ("道路积水", E, "积水 内涝 下雨", [
            ("道路积水影响通行", 2, UH, "排除积水，设置警示", URGENT),
        ]),
        ("占道施工", E, "占道 挖掘 施工", [
            ("未经许可占道、挖掘道路施工", 1, WD, "停止施工，补办手续或恢复道路"),
        ]),
    ]),
    ("环境保护", E, "环保 污染 噪声", [
        ("露天焚烧", E, "焚烧 烧垃圾 烧树叶 烟", [
            ("露天焚烧垃圾、树叶、秸秆", 1, UH, "扑灭，清理现场", URGENT),
        ]),
        ("噪声扰民", E, "噪音 噪声 扰民 施工", [
            ("夜间施工噪声扰民", 2, UH, "停止夜间施工", URGENT),
            ("商业经营、娱乐活动噪声扰民", 1, WD, "整改，噪声达标"),
        ]),
        ("油烟扰民", E, "油烟 餐饮 排烟", [
            ("餐饮单位油烟直排、扰民", 5, WD, "安装净化设施，达标排放"),
        ]),
        ("工地扬尘", E, "扬尘 工地 苫盖", [
            ("工地裸土未苫盖、未洒水降尘", 1, WD, "苫盖、降尘措施到位"),
        ]),
        ("污水外溢", E, "污水 冒水 外溢 直排", [
            ("污水井冒溢、污水漫流", 4, UH, "疏通，清理现场", URGENT),
            ("向雨水管道、河道私排污水", 5, WD, "封堵，依法处理"),
        ]),
        ("河道漂浮物", E, "河道 水面 漂浮物", [
            ("河道、水面有漂浮垃圾", 1, WD, "打捞清理"),
        ]),
    ]),
    ("民生服务", E, "民生 供水 供电 供热 物业", [
        ("停水", E, "停水 没水 供水 水压", [
            ("无通知突发停水", 4, UH, "恢复供水或提供临时供水", URGENT),
            ("计划停水超过公告时间未恢复", 2, UH, "恢复供水", URGENT),
            ("水压低、水流小，影响正常用水", 3, WD, "查明原因，恢复正常水压"),
        ]),
        ("供水管道", C, "自来水管 管道 老化 漏水 爆管", [
            ("供水管道爆裂、大量漏水", 2, UH, "关阀止水并抢修", URGENT),
            ("自来水管老化、锈蚀渗漏", 10, WD, "维修或更换管段，列入改造计划"),
        ]),
        ("楼道灯", C, "楼道灯 声控灯 不亮 照明", [
            ("楼道灯不亮", 3, WD, "修复，恢复照明"),
        ]),
        ("停电", E, "停电 断电 电力", [
            ("无通知突发停电", 4, UH, "恢复供电", URGENT),
        ]),
        ("供暖不热", E, "暖气 供热 不热 采暖", [
            ("供暖期室温不达标", 2, CD, "室温达标"),
            ("暖气管道漏水", 4, UH, "关阀止水并维修", URGENT),
        ]),
        ("电梯故障", C, "电梯 困人 停运", [
            ("电梯困人", 1, UH, "解救被困人员，电梯停用检修", URGENT),
            ("电梯停运、故障", 2, WD, "修复，恢复运行"),
        ]),
        ("下水道堵塞", E, "下水道 堵塞 返水 化粪池", [
            ("居民区排水管道堵塞、返水", 1, WD, "疏通，排水通畅"),
        ]),
        ("困难群众求助", E, "求助 代买 老人 残疾", [
            ("独居、空巢老人等困难群众生活求助（如代买药品）", 1, WD, "协助办结，回访确认"),
        ]),
    ]),
    ("矛盾纠纷", E, "纠纷 调解 矛盾", [
        ("邻里纠纷", E, "邻里 噪音 漏水 占用", [
            ("邻里之间因噪声、漏水、占用公共空间等发生纠纷", 10, WD, "调解完毕，双方确认"),
        ]),
        ("物业纠纷", E, "物业 物业费 服务", [
            ("业主与物业服务企业之间的纠纷", 15, WD, "调解或转有关部门处理完毕"),
        ]),
        ("家庭纠纷", E, "家庭 婚姻 赡养", [
            ("家庭成员之间的婚姻、赡养等纠纷", 10, WD, "调解完毕，回访无反复"),
            ("家庭纠纷有激化、伤害苗头", 2, UH, "现场处置，防止事态扩大", URGENT),
        ]),
        ("劳资纠纷", E, "欠薪 工资 农民工", [
            ("拖欠劳动报酬（欠薪）", 10, WD, "协调支付或转劳动监察处理"),
        ]),
        ("群体性矛盾", E, "群体 聚集 上访", [
            ("多人聚集、有群体性事件苗头", 2, UH, "到场疏导化解，报告有关部门", URGENT),
        ]),
    ]),
]


def rows() -> list[list[str]]:
    out: list[list[str]] = []
    for i, (major, major_kind, major_keywords, minors) in enumerate(CATALOGUE, start=1):
        major_code = f"{i:02d}"
        out.append(["major", major_code, "", major, major_kind, major_keywords,
                    "", "", "", "", str(i), "1"])
        for j, (minor, kind, keywords, standards) in enumerate(minors, start=1):
            minor_code = f"{major_code}{j:02d}"
            out.append(["minor", minor_code, major_code, minor, kind, keywords,
                        "", "", "", "", str(j), "1"])
            for k, standard in enumerate(standards, start=1):
                condition, amount, unit, closing, *flags = standard
                urgent = "1" if flags and flags[0] else "0"
                out.append(["standard", f"{minor_code}-{k}", minor_code, condition, "", "",
                            str(amount), unit, closing, urgent, str(k), ""])
    return out


def write_csv(path: Path, table: list[list[str]]) -> None:
    # The same bytes reports.catalog.export_catalog(fmt="csv") writes: UTF-8 with a BOM
    # (so Excel reads the Chinese right), csv-module quoting, CRLF line ends.
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(table)
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def write_xlsx(path: Path, table: list[list[str]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "catalogue"
    sheet.append(list(COLUMNS))
    for row in table:
        sheet.append(row)  # every cell a string, so codes keep their leading zeros
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = (10, 10, 12, 44, 12, 28, 12, 16, 36, 8, 6, 8)
    for column, width in zip("ABCDEFGHIJKL", widths, strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("说明")
    for line in (
        "演示用案件类别与立案条件（非官方代码表）。",
        "本表按 GB/T 30428 / CJ/T 214 的部件、事件分类方式编写，代码与时限为演示数据；"
        "各城市请按本格式整理自己的类别表后在后台“案件类别 → 导入”或用 import_catalog 命令导入。",
        "只读取第一个工作表；每行一条：type=major（大类）/minor（小类）/standard（立案条件）。",
        "limit_unit：urgent_hours 紧急工作时，working_hours 工作时，working_days 工作日，"
        "calendar_days 自然日。",
        "导入时全部校验通过才会写入；按代码新增或更新，不会删除；停用请把 active 填 0。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    # A fixed document date: the content does not change between runs (the zip
    # container still records the time of writing).
    from datetime import datetime

    book.properties.created = book.properties.modified = datetime(2026, 1, 1)
    book.save(path)


def main() -> None:
    table = rows()
    minors = sum(1 for r in table if r[0] == "minor")
    standards = sum(1 for r in table if r[0] == "standard")
    assert len(CATALOGUE) == 9 and minors >= 60, (len(CATALOGUE), minors)
    for _major, _kind, _kw, minor_list in CATALOGUE:
        for name, _k, _w, standard_list in minor_list:
            assert 1 <= len(standard_list) <= 3, name
    write_csv(HERE / "categories.csv", table)
    write_xlsx(HERE / "categories.xlsx", table)
    print(f"{len(CATALOGUE)} 大类，{minors} 小类，{standards} 立案条件")


if __name__ == "__main__":
    main()
