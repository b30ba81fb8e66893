//! Masking rules for every page a venue or its staff can see: a name keeps its surname, an ID number
//! its first 4 and last 4 characters, a mobile number its first 3 and last 4 digits.

/// Two-character surnames; a name starting with one of these keeps both characters.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "呼延", "百里", "东郭", "澹台", "公冶",
    "宗政", "濮阳", "太史", "申屠", "钟离", "闻人", "万俟", "赫连", "完颜", "拓跋", "第五", "司空",
    "闾丘", "子车", "亓官", "巫马", "公西", "漆雕", "乐正", "壤驷", "公良", "谷梁", "段干", "左丘",
];

/// `张三` → `张*`, `欧阳娜娜` → `欧阳**`; a one-character name shows only `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let kept = match chars.len() {
        0 | 1 => 0,
        2 => 1,
        _ => {
            let first_two: String = chars[..2].iter().collect();
            if COMPOUND_SURNAMES.contains(&first_two.as_str()) {
                2
            } else {
                1
            }
        }
    };
    let mut masked: String = chars[..kept].iter().collect();
    masked.extend(std::iter::repeat_n('*', chars.len() - kept));
    masked
}

/// `11010519491231002X` → `1101**********002X`.
pub fn mask_id_number(id_number: &str) -> String {
    mask_middle(id_number, 4, 4)
}

/// `13812345678` → `138****5678`.
pub fn mask_mobile(mobile: &str) -> String {
    mask_middle(mobile, 3, 4)
}

fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut masked: String = chars[..head].iter().collect();
    masked.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    masked.extend(&chars[chars.len() - tail..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
        assert_eq!(mask_name("欧阳修"), "欧阳*");
        assert_eq!(mask_name("欧阳"), "欧*");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("买买提·艾力"), "买*****");
    }

    #[test]
    fn id_numbers_keep_four_and_four() {
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id_number("440524188001010014"), "4405**********0014");
    }

    #[test]
    fn mobiles_keep_three_and_four() {
        assert_eq!(mask_mobile("13812345678"), "138****5678");
    }

    #[test]
    fn short_values_are_fully_hidden() {
        assert_eq!(mask_mobile("1234567"), "*******");
        assert_eq!(mask_id_number("12345678"), "********");
    }
}
