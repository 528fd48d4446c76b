/*
 * The demo's clinical vocabulary: members, conditions (ICD-10 with SNOMED
 * CT for the CSV export), laboratory tests (LOINC, UCUM, the reference
 * intervals Chinese labs print — WS/T 404 where it has one), panels,
 * drugs (RxNorm ingredient codes: the strength lives in the dose fields,
 * so a Chinese 100 mg aspirin is not coded as a US 81 mg tablet), allergens
 * and reactions (SNOMED CT), procedures (SNOMED CT and ICD-9-CM-3, which
 * Chinese hospitals code operations in), vaccines (CVX) and imaging
 * protocols (DICOM modality and PS3.16 annex L body parts).
 *
 * Creatinine, glucose, cholesterol, triglycerides, urea and uric acid are
 * reported in SI units in China (µmol/L, mmol/L), so they carry the LOINC
 * codes of the molar property (14682-9 creatinine, 14749-6 glucose, ...);
 * 2160-0 and 2345-7 are mass concentrations (mg/dL) and would mislabel them.
 * The enums in demo_int.h name some rows by index: keep them in step.
 */
#include "gateway/demo/demo_int.h"

/* clang-format off */
const struct demo_member_info demo_members[DEMO_N_MEMBERS] = {
    {"hosp-a", "演示市第一人民医院",     "HOSPA", "沈阳市", "和平区", "024-23256000"},
    {"hosp-b", "演示医科大学附属医院",   "HOSPB", "沈阳市", "皇姑区", "024-86123000"},
    {"img-c",  "演示市医学影像中心",     "IMGC",  "沈阳市", "沈河区", "024-22840000"},
};

const struct demo_dept demo_depts[] = {
    {"QK", "全科医学科"}, {"NFM", "内分泌科"}, {"XXG", "心血管内科"}, {"SN", "肾内科"},
    {"HX", "呼吸内科"}, {"SJ", "神经内科"}, {"XH", "消化内科"}, {"GK", "骨科"},
    {"PW", "普通外科"}, {"GR", "感染科"}, {"JZ", "急诊科"}, {"JS", "精神心理科"},
    {"FS", "放射科"},
};
const size_t demo_n_depts = BASE_ARRAY_LEN(demo_depts);

#define NOFX {{-1, 0, 0}}
const struct demo_condition demo_conditions[] = {
    /* 0 */ {"I10", "原发性高血压", "59621000", "Essential hypertension", DEMO_CHRONIC, 30, 280, 0, 2,
             {0, 15, -1}, {2, 1, -1}, {-1}, -1, NOFX},
    /* 1 */ {"E11.9", "2型糖尿病", "44054006", "Type 2 diabetes mellitus", DEMO_CHRONIC, 30, 120, 0, 1,
             {1, 2, -1}, {5, 6, 1}, {-1}, -1,
             {{0, 2.6, -0.18}, {1, 3.2, -0.2}, {-1, 0, 0}}},
    /* 2 */ {"E78.5", "高脂血症", "55822004", "Hyperlipidemia", DEMO_CHRONIC, 30, 180, 0, 2,
             {3, -1}, {4, -1}, {-1}, -1,
             {{13, 1.5, -0.15}, {14, 1.2, -0.15}, {15, 0.8, -0.05}, {-1, 0, 0}}},
    /* 3 */ {"N18.3", "慢性肾脏病3期", "433144002", "Chronic kidney disease stage 3", DEMO_CHRONIC,
             45, 40, 0, 3, {15, -1}, {1, 2, 0}, {9, -1}, -1,
             {{2, 45, 9}, {3, 3, 0.6}, {6, 0.4, 0.05}, {8, -12, -1.5}, {5, 70, 5}}},
    /* 4 */ {"I25.1", "动脉粥样硬化性心脏病", "53741008", "Coronary arteriosclerosis", DEMO_CHRONIC,
             45, 80, 0, 2, {4, 3, 6}, {4, -1}, {-1}, 3, NOFX},
    /* 5 */ {"I63.9", "脑梗死", "432504007", "Cerebral infarction", DEMO_CHRONIC, 50, 30, 0, 5,
             {4, 5, -1}, {4, -1}, {1, 3}, -1, NOFX},
    /* 6 */ {"J44.9", "慢性阻塞性肺疾病", "13645005", "Chronic obstructive lung disease",
             DEMO_CHRONIC, 45, 50, 0, 4, {7, 8, -1}, {0, -1}, {0, 5}, -1, NOFX},
    /* 7 */ {"J18.9", "肺炎", "233604007", "Pneumonia", DEMO_ACUTE, 0, 60, 0, 4, {9, 17, -1},
             {0, -1}, {5, 0}, 4, {{9, 6, 0}, {-1, 0, 0}}},
    /* 8 */ {"K29.7", "胃炎", "4556007", "Gastritis", DEMO_CHRONIC, 18, 100, 0, 6, {16, -1},
             {-1}, {-1}, 5, NOFX},
    /* 9 */ {"K80.2", "胆囊结石", "235919008", "Calculus of gallbladder", DEMO_CHRONIC, 30, 50, 0,
             8, {-1}, {3, -1}, {8, -1}, 1, NOFX},
    /* 10 */ {"M17.9", "膝关节骨关节炎", "239873007", "Osteoarthritis of knee", DEMO_CHRONIC, 45, 90,
              0, 7, {10, -1}, {-1}, {7, 4}, -1, NOFX},
    /* 11 */ {"D64.9", "贫血", "271737000", "Anemia", DEMO_CHRONIC, 0, 40, 'F', 0, {-1}, {0, -1},
              {-1}, -1, {{8, -28, 1}, {-1, 0, 0}}},
    /* 12 */ {"E03.9", "甲状腺功能减退症", "40930008", "Hypothyroidism", DEMO_CHRONIC, 20, 30, 'F', 1,
              {11, -1}, {7, -1}, {10, -1}, -1, {{16, 6, -1.1}, {-1, 0, 0}}},
    /* 13 */ {"M10.9", "痛风", "90560007", "Gout", DEMO_CHRONIC, 30, 30, 'M', 0, {12, -1},
              {1, -1}, {-1}, -1, {{5, 170, -12}, {-1, 0, 0}}},
    /* 14 */ {"B18.1", "慢性乙型病毒性肝炎", "61977001", "Chronic type B viral hepatitis",
              DEMO_CHRONIC, 18, 40, 0, 9, {-1}, {3, -1}, {8, -1}, -1,
              {{11, 40, -4}, {12, 20, -2}, {-1, 0, 0}}},
    /* 15 */ {"J45.9", "哮喘", "195967001", "Asthma", DEMO_CHRONIC, 5, 30, 0, 4, {7, 8, -1},
              {-1}, {-1}, -1, NOFX},
    /* 16 */ {"F32.9", "抑郁发作", "35489007", "Depressive disorder", DEMO_CHRONIC, 16, 40, 0, 11,
              {13, -1}, {-1}, {-1}, -1, NOFX},
    /* 17 */ {"F10.2", "酒精依赖综合征", "7200002", "Alcoholism", DEMO_CHRONIC, 25, 20, 'M', 11,
              {-1}, {3, -1}, {-1}, -1, {{11, 30, 2}, {12, 45, 3}, {-1, 0, 0}}},
    /* 18 */ {"B20", "HIV病", "86406008", "Human immunodeficiency virus infection", DEMO_CHRONIC,
              18, 6, 0, 9, {-1}, {0, -1}, {-1}, -1, {{10, -40, -5}, {-1, 0, 0}}},
    /* 19 */ {"S72.0", "股骨颈骨折", "5913000", "Fracture of neck of femur", DEMO_ACUTE, 60, 15, 0,
              7, {10, -1}, {0, -1}, {6, -1}, 2, NOFX},
    /* 20 */ {"K35.8", "急性阑尾炎", "85189001", "Acute appendicitis", DEMO_ACUTE, 10, 15, 0, 8,
              {17, -1}, {0, -1}, {2, -1}, 0, {{9, 6, 0}, {-1, 0, 0}}},
    /* 21 */ {"J06.9", "急性上呼吸道感染", "54150009", "Upper respiratory infection", DEMO_ACUTE, 0,
              150, 0, 0, {-1}, {0, -1}, {-1}, -1, NOFX},
    /* 22 */ {"I48", "心房颤动", "49436004", "Atrial fibrillation", DEMO_CHRONIC, 55, 30, 0, 2,
              {14, 6, -1}, {2, -1}, {-1}, -1, NOFX},
    /* 23 */ {"N39.0", "尿路感染", "68566005", "Urinary tract infectious disease", DEMO_ACUTE, 16,
              40, 'F', 0, {17, -1}, {0, -1}, {-1}, -1, {{9, 3, 0}, {-1, 0, 0}}},
};
const size_t demo_n_conditions = BASE_ARRAY_LEN(demo_conditions);

const struct demo_lab demo_labs[] = {
    /* loinc zh en local unit lo_m hi_m lo_f hi_f mean_m mean_f sd min max dec crit_lo crit_hi */
    /* 0 */ {"4548-4", "糖化血红蛋白", "Hemoglobin A1c/Hemoglobin.total in Blood", "HBA1C", "%",
             4.0, 6.0, 4.0, 6.0, 5.4, 5.4, 0.3, 4.0, 14.0, 1, 0, 0},
    /* 1 */ {"14749-6", "葡萄糖", "Glucose [Moles/volume] in Serum or Plasma", "GLU", "mmol/L",
             3.9, 6.1, 3.9, 6.1, 5.0, 4.9, 0.5, 2.5, 30.0, 2, 2.8, 22.2},
    /* 2 */ {"14682-9", "肌酐", "Creatinine [Moles/volume] in Serum or Plasma", "CREA", "umol/L",
             59, 104, 45, 84, 78, 60, 10, 30, 900, 0, 0, 0},
    /* 3 */ {"22664-7", "尿素", "Urea [Moles/volume] in Serum or Plasma", "UREA", "mmol/L",
             3.1, 8.0, 2.6, 7.5, 5.3, 4.8, 1.0, 1.5, 40.0, 1, 0, 0},
    /* 4 */ {"62238-1", "估算肾小球滤过率",
             "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma "
             "or Blood by Creatinine-based formula (CKD-EPI)",
             "EGFR", "mL/min/{1.73_m2}", 90, -1, 90, -1, 0, 0, 0, 5, 150, 0, 0, 0},
    /* 5 */ {"14933-6", "尿酸", "Urate [Moles/volume] in Serum or Plasma", "UA", "umol/L",
             208, 428, 155, 357, 340, 260, 50, 100, 900, 0, 0, 0},
    /* 6 */ {"2823-3", "钾", "Potassium [Moles/volume] in Serum or Plasma", "K", "mmol/L",
             3.5, 5.3, 3.5, 5.3, 4.2, 4.2, 0.3, 2.5, 7.5, 2, 2.8, 6.2},
    /* 7 */ {"2951-2", "钠", "Sodium [Moles/volume] in Serum or Plasma", "NA", "mmol/L",
             137, 147, 137, 147, 141, 141, 2, 120, 160, 1, 0, 0},
    /* 8 */ {"718-7", "血红蛋白", "Hemoglobin [Mass/volume] in Blood", "HGB", "g/L",
             130, 175, 115, 150, 148, 130, 9, 50, 200, 0, 60, 0},
    /* 9 */ {"6690-2", "白细胞计数", "Leukocytes [#/volume] in Blood by Automated count", "WBC",
             "10*9/L", 3.5, 9.5, 3.5, 9.5, 6.2, 6.0, 1.3, 1.0, 40.0, 2, 0, 0},
    /* 10 */ {"777-3", "血小板计数", "Platelets [#/volume] in Blood by Automated count", "PLT",
              "10*9/L", 125, 350, 125, 350, 230, 240, 50, 20, 700, 0, 0, 0},
    /* 11 */ {"1742-6", "丙氨酸氨基转移酶",
              "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "ALT",
              "U/L", 9, 50, 7, 40, 24, 18, 7, 3, 1000, 0, 0, 0},
    /* 12 */ {"1920-8", "天门冬氨酸氨基转移酶",
              "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "AST",
              "U/L", 15, 40, 13, 35, 24, 20, 5, 5, 1000, 0, 0, 0},
    /* 13 */ {"14647-2", "总胆固醇", "Cholesterol [Moles/volume] in Serum or Plasma", "TC",
              "mmol/L", -1, 5.2, -1, 5.2, 4.6, 4.6, 0.6, 2.0, 12.0, 2, 0, 0},
    /* 14 */ {"22748-8", "低密度脂蛋白胆固醇",
              "Cholesterol in LDL [Moles/volume] in Serum or Plasma", "LDLC", "mmol/L", -1, 3.4,
              -1, 3.4, 2.7, 2.7, 0.5, 0.5, 9.0, 2, 0, 0},
    /* 15 */ {"14927-8", "甘油三酯", "Triglyceride [Moles/volume] in Serum or Plasma", "TG",
              "mmol/L", -1, 1.7, -1, 1.7, 1.2, 1.1, 0.4, 0.3, 15.0, 2, 0, 0},
    /* 16 */ {"3016-3", "促甲状腺激素", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH",
              "m[IU]/L", 0.27, 4.2, 0.27, 4.2, 1.9, 2.1, 0.7, 0.01, 100, 2, 0, 0},
};
const size_t demo_n_labs = BASE_ARRAY_LEN(demo_labs);

const struct demo_panel demo_panels[] = {
    /* 0 */ {"58410-2", "血常规", "CBC panel - Blood by Automated count", "XCG", "BLD",
             {8, 9, 10, -1}},
    /* 1 */ {"24362-6", "肾功能", "Renal function 2000 panel - Serum or Plasma", "SGN", "SER",
             {2, 3, 5, 4, -1}},
    /* 2 */ {"24326-1", "电解质", "Electrolytes 1998 panel - Serum or Plasma", "DJZ", "SER",
             {6, 7, -1}},
    /* 3 */ {"24325-3", "肝功能", "Hepatic function 2000 panel - Serum or Plasma", "GGN", "SER",
             {11, 12, -1}},
    /* 4 */ {"57698-3", "血脂四项", "Lipid panel with direct LDL - Serum or Plasma", "XZ", "SER",
             {13, 14, 15, -1}},
    /* 5 */ {"4548-4", "糖化血红蛋白", "Hemoglobin A1c/Hemoglobin.total in Blood", "HBA1C", "BLD",
             {0, -1}},
    /* 6 */ {"14749-6", "空腹血糖", "Glucose [Moles/volume] in Serum or Plasma", "GLU", "SER",
             {1, -1}},
    /* 7 */ {"3016-3", "甲状腺功能", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", "SER",
             {16, -1}},
};
const size_t demo_n_panels = BASE_ARRAY_LEN(demo_panels);

const struct demo_drug demo_drugs[] = {
    /* rxnorm zh en local dose unit form form_zh route route_zh freq freq_zh days */
    /* 0 */ {"17767", "苯磺酸氨氯地平片", "amlodipine", "YP0101", "5", "mg", "TAB", "片", "PO",
             "口服", "QD", "每日一次", 30},
    /* 1 */ {"6809", "盐酸二甲双胍缓释片", "metformin", "YP0201", "500", "mg", "TAB", "片", "PO",
             "口服", "BID", "每日两次", 30},
    /* 2 */ {"106892", "精蛋白生物合成人胰岛素注射液(预混30R)",
             "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable "
             "Suspension [Humulin]",
             "YP0202", "12", "[iU]", "INJ", "注射液", "SC", "皮下注射", "BID", "每日两次", 30},
    /* 3 */ {"83367", "阿托伐他汀钙片", "atorvastatin", "YP0301", "20", "mg", "TAB", "片", "PO",
             "口服", "QN", "每晚一次", 30},
    /* 4 */ {"1191", "阿司匹林肠溶片", "aspirin", "YP0302", "100", "mg", "TAB", "片", "PO", "口服",
             "QD", "每日一次", 30},
    /* 5 */ {"32968", "硫酸氢氯吡格雷片", "clopidogrel", "YP0303", "75", "mg", "TAB", "片", "PO",
             "口服", "QD", "每日一次", 30},
    /* 6 */ {"6918", "酒石酸美托洛尔片", "metoprolol", "YP0304", "25", "mg", "TAB", "片", "PO",
             "口服", "BID", "每日两次", 30},
    /* 7 */ {"435", "硫酸沙丁胺醇吸入气雾剂", "albuterol", "YP0401", "100", "ug", "AER", "气雾剂",
             "IH", "吸入", "PRN", "必要时", 30},
    /* 8 */ {"41126", "丙酸氟替卡松吸入气雾剂", "fluticasone", "YP0402", "125", "ug", "AER",
             "气雾剂", "IH", "吸入", "BID", "每日两次", 30},
    /* 9 */ {"723", "阿莫西林胶囊", "amoxicillin", "YP0501", "500", "mg", "CAP", "胶囊", "PO",
             "口服", "TID", "每日三次", 7},
    /* 10 */ {"5640", "布洛芬缓释胶囊", "ibuprofen", "YP0601", "300", "mg", "CAP", "胶囊", "PO",
              "口服", "BID", "每日两次", 14},
    /* 11 */ {"10582", "左甲状腺素钠片", "levothyroxine", "YP0701", "50", "ug", "TAB", "片", "PO",
              "口服", "QD", "每日一次", 30},
    /* 12 */ {"519", "别嘌醇片", "allopurinol", "YP0702", "100", "mg", "TAB", "片", "PO", "口服",
              "QD", "每日一次", 30},
    /* 13 */ {"36437", "盐酸舍曲林片", "sertraline", "YP0801", "50", "mg", "TAB", "片", "PO", "口服",
              "QD", "每日一次", 30},
    /* 14 */ {"11289", "华法林钠片", "warfarin", "YP0305", "2.5", "mg", "TAB", "片", "PO", "口服",
              "QD", "每日一次", 30},
    /* 15 */ {"52175", "氯沙坦钾片", "losartan", "YP0102", "50", "mg", "TAB", "片", "PO", "口服",
              "QD", "每日一次", 30},
    /* 16 */ {"7646", "奥美拉唑肠溶胶囊", "omeprazole", "YP0901", "20", "mg", "CAP", "胶囊", "PO",
              "口服", "QD", "每日一次", 14},
    /* 17 */ {"82122", "左氧氟沙星片", "levofloxacin", "YP0502", "500", "mg", "TAB", "片", "PO",
              "口服", "QD", "每日一次", 7},
};
const size_t demo_n_drugs = BASE_ARRAY_LEN(demo_drugs);

const struct demo_allergen demo_allergens[] = {
    {"373270004", "青霉素类抗生素", "Penicillin -class of antibiotic-", 'D', "271807003", "皮疹",
     "moderate"},
    {"387458008", "阿司匹林", "Aspirin", 'D', "247472004", "荨麻疹", "moderate"},
    {"372687004", "阿莫西林", "Amoxicillin", 'D', "39579001", "过敏性休克", "severe"},
    {"387207008", "布洛芬", "Ibuprofen", 'D', "271807003", "皮疹", "mild"},
    {"256259004", "花粉", "Pollen", 'E', "76067001", "打喷嚏", "mild"},
    {"260147004", "尘螨", "House dust mite", 'E', "76067001", "打喷嚏", "mild"},
    {"735029006", "贝类海鲜", "Shellfish", 'F', "247472004", "荨麻疹", "moderate"},
    {"102263004", "鸡蛋", "Eggs (edible)", 'F', "418290006", "瘙痒", "mild"},
    {"762952008", "花生", "Peanut", 'F', "39579001", "过敏性休克", "severe"},
};
const size_t demo_n_allergens = BASE_ARRAY_LEN(demo_allergens);

const struct demo_procedure demo_procedures[] = {
    {"80146002", "47.09", "阑尾切除术", "Appendectomy"},
    {"45595009", "51.23", "腹腔镜下胆囊切除术", "Laparoscopic cholecystectomy"},
    {"52734007", "81.51", "全髋关节置换术", "Total replacement of hip"},
    {"415070008", "00.66", "经皮冠状动脉介入治疗", "Percutaneous coronary intervention"},
    {"10847001", "33.22", "纤维支气管镜检查", "Bronchoscopy"},
    {"76009000", "45.13", "胃镜检查", "Esophagogastroduodenoscopy"},
};
const size_t demo_n_procedures = BASE_ARRAY_LEN(demo_procedures);

const struct demo_vaccine demo_vaccines[] = {
    {"141", "流感疫苗", "Influenza, seasonal, injectable"},
    {"510", "新冠病毒灭活疫苗(Vero细胞)", "SARS-COV-2 (COVID-19) vaccine, inactivated virus, BIBP"},
    {"33", "23价肺炎球菌多糖疫苗", "pneumococcal polysaccharide vaccine, 23 valent"},
    {"43", "乙型肝炎疫苗", "hepatitis B vaccine, adult dosage"},
    {"187", "带状疱疹疫苗", "zoster vaccine recombinant"},
};
const size_t demo_n_vaccines = BASE_ARRAY_LEN(demo_vaccines);

const struct demo_imaging demo_imaging[] = {
    /* 0 */ {"CT", "CHEST", "胸部CT平扫", "CT chest without contrast",
             {{"肺窗 1.25mm", 3}, {"纵隔窗 5mm", 2}, {NULL, 0}}},
    /* 1 */ {"CT", "HEAD", "头颅CT平扫", "CT head without contrast",
             {{"头颅平扫 5mm", 3}, {NULL, 0}}},
    /* 2 */ {"CT", "ABDOMEN", "全腹部CT增强", "CT abdomen with contrast",
             {{"平扫", 2}, {"动脉期", 2}, {"门静脉期", 2}}},
    /* 3 */ {"MR", "HEAD", "头颅MRI平扫+DWI", "MRI brain with diffusion",
             {{"T1WI 横断位", 2}, {"T2WI 横断位", 2}, {"DWI", 2}}},
    /* 4 */ {"MR", "KNEE", "膝关节MRI平扫", "MRI knee without contrast",
             {{"PD-FS 矢状位", 2}, {"T1WI 冠状位", 2}, {NULL, 0}}},
    /* 5 */ {"CR", "CHEST", "胸部正侧位片", "Chest X-ray PA and lateral",
             {{"胸部正侧位", 2}, {NULL, 0}}},
    /* 6 */ {"CR", "PELVIS", "骨盆正位片", "Pelvis X-ray AP", {{"骨盆正位", 1}, {NULL, 0}}},
    /* 7 */ {"CR", "KNEE", "双膝关节正侧位片", "Knees X-ray AP and lateral",
             {{"膝关节正侧位", 2}, {NULL, 0}}},
    /* 8 */ {"US", "ABDOMEN", "腹部超声(肝胆胰脾)", "Ultrasound abdomen",
             {{"腹部", 3}, {NULL, 0}}},
    /* 9 */ {"US", "KIDNEY", "泌尿系超声", "Ultrasound kidneys, ureters and bladder",
             {{"双肾输尿管膀胱", 3}, {NULL, 0}}},
    /* 10 */ {"US", "THYROID", "甲状腺超声", "Ultrasound thyroid", {{"甲状腺", 2}, {NULL, 0}}},
};
const size_t demo_n_imaging = BASE_ARRAY_LEN(demo_imaging);

const struct demo_vital demo_vitals[] = {
    {"8480-6", "收缩压", "Systolic blood pressure", "mm[Hg]", 0},
    {"8462-4", "舒张压", "Diastolic blood pressure", "mm[Hg]", 0},
    {"8867-4", "心率", "Heart rate", "/min", 0},
    {"8310-5", "体温", "Body temperature", "Cel", 1},
    {"29463-7", "体重", "Body weight", "kg", 1},
    {"8302-2", "身高", "Body height", "cm", 0},
};
const size_t demo_n_vitals = BASE_ARRAY_LEN(demo_vitals);
/* clang-format on */
